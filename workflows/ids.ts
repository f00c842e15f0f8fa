/**
 * Workflow ids and the default task queue, in one place for the API, the worker and the tests.
 * Pure module: safe to import from workflow code.
 */
export const DEFAULT_TASK_QUEUE = 'ai-credits';

export function memberWorkflowId(teamId: string, userId: string): string {
  return `ai-credits/member/${teamId}/${userId}`;
}

export function teamWorkflowId(teamId: string): string {
  return `ai-credits/team/${teamId}`;
}

/** One delivery of one webhook event to one endpoint (its id is the delivery's, so it is started once). */
export function webhookDeliveryWorkflowId(deliveryId: string): string {
  return `ai-credits/webhook-delivery/${deliveryId}`;
}

/** A plan upgrade carried to every member of the team. */
export function planChangeWorkflowId(teamId: string, changeId: string): string {
  return `ai-credits/plan-change/${teamId}/${changeId}`;
}
