import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import * as initial from '../../migrations/20261125190000_initial';
import * as ledgerWrittenBy from '../../migrations/20261126040000_ledger_written_by';
import * as budgetLeases from '../../migrations/20261202030000_budget_leases';
import * as tokensAndAudit from '../../migrations/20261203100000_tokens_and_audit';
import * as capsAndReservations from '../../migrations/20261204090000_caps_and_reservations';
import * as webhooksAndPlanChanges from '../../migrations/20261205090000_webhooks_and_plan_changes';
import * as serviceCounters from '../../migrations/20261206090000_service_counters';

// bigint columns hold millicredits and minor units: return them as numbers, refusing silent precision loss.
pg.types.setTypeParser(20, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} is beyond the safe integer range`);
  return n;
});

/** Migrations are listed here, in order, so they load the same way under tsx, ts-jest and compiled JS. */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261125190000_initial': initial,
  '20261126040000_ledger_written_by': ledgerWrittenBy,
  '20261202030000_budget_leases': budgetLeases,
  '20261203100000_tokens_and_audit': tokensAndAudit,
  '20261204090000_caps_and_reservations': capsAndReservations,
  '20261205090000_webhooks_and_plan_changes': webhooksAndPlanChanges,
  '20261206090000_service_counters': serviceCounters,
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

export function createDb(databaseUrl: string, pool: { min?: number; max?: number } = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}

/** Any fixed number: the advisory lock that lets several processes (worker, API replicas) migrate at once. */
const MIGRATION_LOCK_KEY = 0x41494352; // "AICR"

/**
 * Migrate to the latest schema. Processes starting together wait for each other on a PostgreSQL advisory
 * lock instead of failing on knex's own migration lock.
 */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const connection = await db.client.acquireConnection();
  try {
    await db.raw('select pg_advisory_lock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
    return applied;
  } finally {
    await db.raw('select pg_advisory_unlock(?)', [MIGRATION_LOCK_KEY]).connection(connection);
    await db.client.releaseConnection(connection);
  }
}
