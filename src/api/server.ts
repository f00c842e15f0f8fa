import { Client, type Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import pino from 'pino';
import {
  checkProvisioningToken,
  loadConfig,
  requireSetting,
  webhookSettings,
  type RateLimits,
  type WebhookSettings,
} from '../config';
import { LeaseHolder } from '../credits/lease-holder';
import { MemberCredits } from '../credits/member-credits';
import { WorkflowInputs } from '../credits/workflow-inputs';
import { AccessChangeStore } from '../db/access-change-store';
import { AuditStore } from '../db/audit-store';
import { CreditStore } from '../db/credit-store';
import { InvoiceStore } from '../db/invoice-store';
import { createDb, migrateLatest } from '../db/knex';
import { LedgerStore } from '../db/ledger-store';
import { NotificationStore } from '../db/notification-store';
import { TeamStore } from '../db/team-store';
import { TokenStore } from '../db/token-store';
import { UsageHistoryStore } from '../db/usage-history-store';
import { WebhookStore } from '../db/webhook-store';
import { PlanChanges } from '../temporal/plan-changes';
import { WebhookDeliveries } from '../temporal/webhook-deliveries';
import { PlanCatalogue } from '../plans';
import { connectClient } from '../temporal/connection';
import { MemberClient } from '../temporal/member-client';
import { buildApp } from './app';
import type { AuthenticatorOptions } from './auth';

export interface ApiServerInput {
  db: Knex;
  connection: Connection;
  namespace: string;
  taskQueue: string;
  provisioningToken: string;
  plans?: PlanCatalogue;
  logger?: pino.Logger | false;
  rateLimits?: RateLimits;
  auth?: AuthenticatorOptions;
  /** Grace window after each billing date before a team's invoice is finalized (tests shorten it). */
  invoiceGraceMs?: number;
  /** Webhook URL policy and retries (default: from the environment). */
  webhooks?: WebhookSettings;
}

/** The member credits with their dependencies wired: the API's, and the tests'. */
export function memberCredits(input: {
  db: Knex;
  client: Client;
  taskQueue: string;
  plans: PlanCatalogue;
  invoiceGraceMs?: number;
}): MemberCredits {
  const store = new CreditStore(input.db);
  const teams = new TeamStore(input.db);
  const inputs = new WorkflowInputs(store, teams, input.plans, input.invoiceGraceMs);
  const members = new MemberClient(input.client, inputs, input.taskQueue);
  return new MemberCredits(store, teams, inputs, members, new LeaseHolder(store, members));
}

/** The API with its dependencies wired: used by `npm start`, by `npm run start:api` and by the tests. */
export async function createApiApp(input: ApiServerInput) {
  const plans = input.plans ?? PlanCatalogue.load();
  const client = new Client({ connection: input.connection, namespace: input.namespace });
  checkProvisioningToken(input.provisioningToken);
  const webhooks = input.webhooks ?? webhookSettings();
  return buildApp({
    teams: new TeamStore(input.db),
    tokens: new TokenStore(input.db),
    audit: new AuditStore(input.db),
    accessChanges: new AccessChangeStore(input.db),
    transaction: (fn) =>
      input.db.transaction((trx) =>
        fn({
          teams: new TeamStore(trx),
          tokens: new TokenStore(trx),
          audit: new AuditStore(trx),
          changes: new AccessChangeStore(trx),
          webhooks: new WebhookStore(trx),
        }),
      ),
    ledger: new LedgerStore(input.db),
    invoices: new InvoiceStore(input.db),
    notifications: new NotificationStore(input.db),
    usageHistory: new UsageHistoryStore(input.db),
    webhooks: new WebhookStore(input.db),
    webhookSettings: webhooks,
    deliveries: new WebhookDeliveries(client, input.taskQueue, webhooks.retry),
    planChanges: new PlanChanges(client, input.taskQueue),
    plans,
    credits: memberCredits({
      db: input.db,
      client,
      taskQueue: input.taskQueue,
      plans,
      invoiceGraceMs: input.invoiceGraceMs,
    }),
    provisioningToken: input.provisioningToken,
    rateLimits: input.rateLimits,
    auth: input.auth,
    logger: input.logger ?? false,
    health: async () => ({
      database: await input.db
        .raw('select 1')
        .then(() => true)
        .catch(() => false),
      temporal: await input.connection.healthService
        .check({})
        .then((r) => r.status === 1)
        .catch(() => false),
    }),
  });
}

/**
 * The API's logger, as production runs it (`npm start`, `npm run start:api`): JSON lines at `level`, with every
 * place a bearer token or a cookie could sit redacted.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  };
  // Standard output written asynchronously (pino flushes what is left on exit): a busy API would otherwise make
  // one write system call per log line on its event loop, two per request.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const provisioningToken = checkProvisioningToken(requireSetting(config.provisioningToken, 'PROVISIONING_TOKEN'));
  const db = createDb(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  await migrateLatest(db);
  const connection = await connectClient(config.temporal, requireSetting(config.temporalAddress, 'TEMPORAL_ADDRESS'));
  const app = await createApiApp({
    db,
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    provisioningToken,
    rateLimits: config.rateLimits,
    webhooks: config.webhooks,
    logger: createLogger(config.logLevel),
  });
  await app.listen({ port: config.port, host: config.host });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.close().then(async () => {
        await connection.close();
        await db.destroy();
      });
    });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
