import type { ActivityDeps } from './deps';
import { createInvoiceActivities } from './invoices';
import { createLedgerActivities } from './ledger';
import { createNotificationActivities } from './notifications';

export type { ActivityDeps } from './deps';

/** All activities, with their dependencies injected (the worker registers the returned object). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createLedgerActivities(deps),
    ...createInvoiceActivities(deps),
    ...createNotificationActivities(deps),
  };
}

export type MemberActivities = ReturnType<typeof createActivities>;
