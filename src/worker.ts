import { Client } from '@temporalio/client';
import { SdkComponent, type Logger, type LogLevel, type LogMetadata } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities';
import { loadConfig, requireSetting, webhookSettings, type WebhookSettings } from './config';
import { CreditStore } from './db/credit-store';
import { InvoiceStore } from './db/invoice-store';
import { createDb, migrateLatest } from './db/knex';
import { LedgerStore } from './db/ledger-store';
import { NotificationStore } from './db/notification-store';
import { TeamStore } from './db/team-store';
import { WebhookStore } from './db/webhook-store';
import { PlanChanges } from './temporal/plan-changes';
import { WebhookDeliveries } from './temporal/webhook-deliveries';
import { createSmtpMailer, type Mailer } from './mailer';
import { PlanCatalogue } from './plans';
import { connectWorker } from './temporal/connection';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerInput {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Knex;
  mailer: Mailer;
  plans?: PlanCatalogue;
  /** Webhook URL policy and retries (default: from the environment, `webhookSettings()`). */
  webhooks?: WebhookSettings;
  /** A prebuilt bundle (tests bundle once per suite); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

/**
 * The activities' dependencies. `client` starts webhook deliveries and sends plan upgrades to member workflows, on
 * `taskQueue` (the worker's own).
 */
export function activityDeps(input: {
  db: Knex;
  mailer: Mailer;
  client: Client;
  taskQueue: string;
  plans?: PlanCatalogue;
  webhooks?: WebhookSettings;
}) {
  const settings = input.webhooks ?? webhookSettings();
  return {
    credits: new CreditStore(input.db),
    ledger: new LedgerStore(input.db),
    invoices: new InvoiceStore(input.db),
    teams: new TeamStore(input.db),
    notifications: new NotificationStore(input.db),
    mailer: input.mailer,
    plans: input.plans ?? PlanCatalogue.load(),
    webhooks: new WebhookStore(input.db),
    webhookSettings: settings,
    deliveries: new WebhookDeliveries(input.client, input.taskQueue, settings.retry),
    planChanges: new PlanChanges(input.client, input.taskQueue),
  };
}

export async function createWorker(input: CreateWorkerInput): Promise<Worker> {
  const client = new Client({ connection: input.connection, namespace: input.namespace });
  return Worker.create({
    connection: input.connection,
    namespace: input.namespace,
    taskQueue: input.taskQueue,
    ...(input.workflowBundle ? { workflowBundle: input.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(activityDeps({ ...input, client })),
    ...input.options,
  });
}

const SDK_LOG_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * The SDK logs at the service's LOG_LEVEL, except the worker's own INFO lines, which are debug detail here: the
 * bundler's webpack module listing (a screenful at every start) and the worker's state changes. Call before anything
 * creates the Runtime (connections, workers).
 */
export function installSdkLogger(logLevel: string): void {
  const logger = new DefaultLogger(SDK_LOG_LEVELS[logLevel] ?? 'INFO');
  const log = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger.log(level === 'INFO' && meta?.sdkComponent === SdkComponent.worker ? 'DEBUG' : level, message, meta);
  const quietWorker: Logger = {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
  Runtime.install({ logger: quietWorker });
}

/** `npm run start:worker`: a worker alone, against the configured Temporal, PostgreSQL and SMTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  installSdkLogger(config.logLevel);
  const db = createDb(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  await migrateLatest(db);
  const connection = await connectWorker(config.temporal, requireSetting(config.temporalAddress, 'TEMPORAL_ADDRESS'));
  const mailer = createSmtpMailer(requireSetting(config.smtpUrl, 'SMTP_URL'));
  const worker = await createWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    db,
    mailer,
    webhooks: config.webhooks,
  });
  console.log(
    `worker polling task queue ${config.taskQueue} on ${config.temporalAddress} (${config.temporal.description})`,
  );
  await worker.run();
  await connection.close();
  mailer.close();
  await db.destroy();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
