import { Client, Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadConfig, requireSetting } from '../config';
import { InvoiceStore } from '../db/invoice-store';
import { createDb, migrateLatest } from '../db/knex';
import { LedgerStore } from '../db/ledger-store';
import { NotificationStore } from '../db/notification-store';
import { TeamStore } from '../db/team-store';
import { TokenStore } from '../db/token-store';
import { PlanCatalogue } from '../plans';
import { CreditsService } from '../temporal/credits-service';
import { buildApp } from './app';

export interface ApiServerInput {
  db: Knex;
  connection: Connection;
  namespace: string;
  taskQueue: string;
  provisioningToken: string;
  plans?: PlanCatalogue;
  logger?: pino.Logger | false;
  /** See `Config.ledgerBackstopMs`. */
  ledgerBackstopMs?: number;
}

/** The API with its dependencies wired: used by `npm start`, by `npm run start:api` and by the tests. */
export async function createApiApp(input: ApiServerInput) {
  const plans = input.plans ?? PlanCatalogue.load();
  const client = new Client({ connection: input.connection, namespace: input.namespace });
  const teams = new TeamStore(input.db);
  const ledger = new LedgerStore(input.db);
  const logger = input.logger ?? false;
  return buildApp({
    teams,
    tokens: new TokenStore(input.db),
    ledger,
    invoices: new InvoiceStore(input.db),
    notifications: new NotificationStore(input.db),
    plans,
    credits: new CreditsService(client, teams, plans, input.taskQueue, {
      ledger,
      ledgerBackstopMs: input.ledgerBackstopMs,
      onWriteThroughError: (err) =>
        logger && logger.warn({ err: String(err) }, 'ledger write-through failed; the workflow will write the rows'),
    }),
    provisioningToken: input.provisioningToken,
    logger,
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

async function main(): Promise<void> {
  const config = loadConfig();
  const db = createDb(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  await migrateLatest(db);
  const connection = await Connection.connect({ address: requireSetting(config.temporalAddress, 'TEMPORAL_ADDRESS') });
  const app = await createApiApp({
    db,
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    provisioningToken: requireSetting(config.provisioningToken, 'PROVISIONING_TOKEN'),
    logger: pino({ level: config.logLevel, redact: ['req.headers.authorization'] }),
    ledgerBackstopMs: config.ledgerBackstopMs,
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
