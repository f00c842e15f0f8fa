import type { CreditStore } from '../src/db/credit-store';
import type { InvoiceStore } from '../src/db/invoice-store';
import type { LedgerStore } from '../src/db/ledger-store';
import type { NotificationStore } from '../src/db/notification-store';
import type { TeamStore } from '../src/db/team-store';
import type { WebhookStore } from '../src/db/webhook-store';
import type { WebhookSettings } from '../src/config';
import type { PlanChanges } from '../src/temporal/plan-changes';
import type { WebhookDeliveries } from '../src/temporal/webhook-deliveries';
import type { Mailer } from '../src/mailer';
import type { PlanCatalogue } from '../src/plans';

/** What the activities need from the outside world, injected by the worker (and by tests). */
export interface ActivityDeps {
  credits: CreditStore;
  ledger: LedgerStore;
  invoices: InvoiceStore;
  teams: TeamStore;
  notifications: NotificationStore;
  mailer: Mailer;
  plans: PlanCatalogue;
  webhooks: WebhookStore;
  webhookSettings: WebhookSettings;
  /** Starts the workflow of each webhook delivery. */
  deliveries: WebhookDeliveries;
  /** Sends plan upgrades to members' running workflows. */
  planChanges: PlanChanges;
}
