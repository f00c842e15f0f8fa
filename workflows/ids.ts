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
