import type { ActivityDeps } from './deps';
import { createInvoiceActivities } from './invoices';
import { createRecordActivities } from './records';
import { createNotificationActivities } from './notifications';
import { createPlanActivities } from './plans';
import { createWebhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

/** All activities, with their dependencies injected (the worker registers the returned object). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createInvoiceActivities(deps),
    ...createNotificationActivities(deps),
    ...createWebhookActivities(deps),
    ...createPlanActivities(deps),
  };
}

export type MemberActivities = ReturnType<typeof createActivities>;
