import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import * as initial from '../../migrations/20261125190000_initial';

// bigint columns hold millicredits and minor units: return them as numbers, refusing silent precision loss.
pg.types.setTypeParser(20, (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} is beyond the safe integer range`);
  return n;
});

/** Migrations are listed here, in order, so they load the same way under tsx, ts-jest and compiled JS. */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261125190000_initial': initial,
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

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}
