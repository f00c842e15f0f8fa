/**
 * `npm run reconcile -- <teamId> [userId…]`: the reconciliation check for every active member of a team (or the
 * ones named), against DATABASE_URL and the Temporal of TEMPORAL_ADDRESS or TEMPORAL_PROFILE (with their TLS
 * settings, src/temporal/connection.ts). Prints one line per member; exits 1 on any difference.
 */
import { Client } from '@temporalio/client';
import { loadConfig, requireSetting } from '../config';
import { createDb } from '../db/knex';
import { TeamStore } from '../db/team-store';
import { connectClient } from '../temporal/connection';
import { reconcileMember } from './reconcile';

async function main(): Promise<number> {
  const [teamId, ...named] = process.argv.slice(2);
  if (!teamId) throw new Error('usage: npm run reconcile -- <teamId> [userId…]');
  const config = loadConfig();
  const db = createDb(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  const connection = await connectClient(config.temporal, requireSetting(config.temporalAddress, 'TEMPORAL_ADDRESS'));
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const userIds = named.length > 0 ? named : (await new TeamStore(db).listMembers(teamId)).map((m) => m.userId);
    let failed = 0;
    for (const userId of userIds) {
      const r = await reconcileMember({ db, client }, teamId, userId);
      if (r.differences.length > 0) failed++;
      console.log(`${teamId}/${userId}: ${r.differences.length === 0 ? 'ok' : r.differences.join('; ')}`);
    }
    console.log(`${userIds.length} member(s), ${failed} with differences`);
    return failed > 0 ? 1 : 0;
  } finally {
    await connection.close();
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
