import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities';
import { loadConfig, requireSetting } from './config';
import { CreditStore } from './db/credit-store';
import { InvoiceStore } from './db/invoice-store';
import { createDb, migrateLatest } from './db/knex';
import { LedgerStore } from './db/ledger-store';
import { NotificationStore } from './db/notification-store';
import { TeamStore } from './db/team-store';
import { createSmtpMailer, type Mailer } from './mailer';
import { PlanCatalogue } from './plans';

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface CreateWorkerInput {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Knex;
  mailer: Mailer;
  plans?: PlanCatalogue;
  /** A prebuilt bundle (tests bundle once per suite); otherwise the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  options?: Partial<WorkerOptions>;
}

export function activityDeps(db: Knex, mailer: Mailer, plans = PlanCatalogue.load()) {
  return {
    credits: new CreditStore(db),
    ledger: new LedgerStore(db),
    invoices: new InvoiceStore(db),
    teams: new TeamStore(db),
    notifications: new NotificationStore(db),
    mailer,
    plans,
  };
}

export async function createWorker(input: CreateWorkerInput): Promise<Worker> {
  return Worker.create({
    connection: input.connection,
    namespace: input.namespace,
    taskQueue: input.taskQueue,
    ...(input.workflowBundle ? { workflowBundle: input.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(activityDeps(input.db, input.mailer, input.plans)),
    ...input.options,
  });
}

/** `npm run start:worker`: a worker alone, against the configured Temporal, PostgreSQL and SMTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDb(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  await migrateLatest(db);
  const connection = await NativeConnection.connect({
    address: requireSetting(config.temporalAddress, 'TEMPORAL_ADDRESS'),
  });
  const mailer = createSmtpMailer(requireSetting(config.smtpUrl, 'SMTP_URL'));
  const worker = await createWorker({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    db,
    mailer,
  });
  console.log(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress}`);
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
