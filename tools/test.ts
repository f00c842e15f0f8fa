/**
 * `npm test`: type-check, start a private stack (PostgreSQL, Temporal dev server, the time-skipping test
 * server's binary), run jest against it, and stop everything it started, also on failure or Ctrl-C.
 * Isolated from `npm start`: its own ports (picked free) and its own data under `.data/test/`.
 *
 *   npm test                      the whole suite
 *   npm test -- test/unit         jest arguments pass through
 *   npm run test:faults           (--faults) the fault-injection suite, which starts and breaks its own servers
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createDb, migrateLatest } from '../src/db/knex';
import { plainTextEnv } from '../src/temporal/connection';
import { ensureChromium } from './chromium';
import { LocalStack } from './local-stack';
import { freshDatabase } from './postgres';
import { formatDuration, stopListWithSignals } from './procs';
import { ensureTemporalCli } from './temporal-cli';
import { ensureTimeSkippingTestServer } from './test-server';

const root = path.resolve(__dirname, '..');
// AI_CREDITS_TEST_DATA lets two runs side by side keep apart (each needs its own PostgreSQL and Temporal data).
const dataDir = path.resolve(process.env.AI_CREDITS_TEST_DATA ?? path.join(root, '.data', 'test'));
const log = (msg: string) => console.log(`[test] ${msg}`);

/** Lowered so continue-as-new inside a period happens within a test (production keeps the server default). */
const SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS = 300;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const faults = argv.includes('--faults');
  const jestArgs = argv.filter((a) => a !== '--faults');
  const started = Date.now();

  log('type-checking (tsc --noEmit)…');
  const tsc = await run(path.join(root, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  if (tsc !== 0) return tsc;

  const { stops, stopAll } = stopListWithSignals('test stack', log);

  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const jest = path.join(root, 'node_modules', '.bin', 'jest');

    if (faults) {
      // The fault suite starts, kills and restarts its own servers (test/faults/stack.ts): only the Temporal CLI
      // is prepared here, so a first-time install shows its progress.
      await ensureTemporalCli(log);
      if (process.env.DATABASE_URL) {
        env.FAULTS_DATABASE_URL = await freshDatabase(process.env.DATABASE_URL, 'ai_credits_faults');
        log('using DATABASE_URL from the environment: PostgreSQL restarts are skipped');
      }
      env.AI_CREDITS_FAULTS = '1';
      log(`running the fault-injection suite…`);
      return await run(jest, ['test/faults', '--testTimeout', '1200000', ...jestArgs], env);
    }

    // Always a dev server of its own, even with TEMPORAL_ADDRESS set: the suite relies on its dynamic config.
    const stack = await LocalStack.start({
      dataDir,
      log,
      postgres: {
        url: process.env.DATABASE_URL || undefined,
        port: 0,
        database: 'ai_credits_test',
        fresh: true,
        settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '200' },
      },
      temporal: {
        port: 0,
        fresh: true,
        dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_AFTER_EVENTS },
      },
    });
    stops.push(() => stack.stop());
    env.DATABASE_URL = stack.databaseUrl;
    env.TEMPORAL_TEST_SERVER = await ensureTimeSkippingTestServer(log);
    env.CHROMIUM_PATH = await ensureChromium(log);

    const db = createDb(env.DATABASE_URL);
    await migrateLatest(db);
    await db.destroy();

    log(`stack ready in ${formatDuration(Date.now() - started)}; running jest…`);
    // Its own dev server, in plain text, whatever TLS settings the shell has for another Temporal.
    return await run(jest, jestArgs, plainTextEnv(env, stack.temporalAddress));
  } finally {
    await stopAll();
    log(`done in ${formatDuration(Date.now() - started)}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[test] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
