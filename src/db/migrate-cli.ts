/** `npm run migrate`: bring the database of DATABASE_URL to the latest schema. */
import { loadConfig, requireSetting } from '../config';
import { createDb, migrateLatest } from './knex';

async function main(): Promise<void> {
  const db = createDb(requireSetting(loadConfig().databaseUrl, 'DATABASE_URL'));
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
