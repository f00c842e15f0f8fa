/**
 * Smoke test of the local stack: installs the tools when needed, starts PostgreSQL, a Temporal dev server with its
 * Web UI and an SMTP catcher (tools/local-stack.ts) and the Java time-skipping test server on free ports (state
 * under a temp dir), checks each answers, stops everything.
 *
 *   npx tsx tools/stack-smoke.ts [--keep]   (--keep: keep the temp dir for a look at the logs)
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import { LocalStack } from './local-stack';
import { findFreePorts, formatDuration } from './procs';
import { ensureTemporalCli } from './temporal-cli';
import type { RunningServer } from './temporal-dev-server';
import { ensureTimeSkippingTestServer, startJavaTestServer } from './test-server';

const log = (msg: string): void => console.log(`  ${msg}`);
const timings: [string, number][] = [];

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  console.log(`> ${label}`);
  const result = await fn();
  timings.push([label, Date.now() - started]);
  return result;
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ai-credits-smoke-'));
  // mkdtemp makes it 0700; open it up like a normal checkout so the postgres user can use <dir>/pg (as root).
  chmodSync(dir, 0o755);
  console.log(`state and logs under ${dir}`);
  const toStop: { name: string; stop: () => Promise<void> }[] = [];
  let failed = false;
  let pgDataDir: string | undefined;
  try {
    const cli = await timed('ensure Temporal CLI', () => ensureTemporalCli(log));
    log(cli);
    const wrapper = await timed('ensure time-skipping test server', () => ensureTimeSkippingTestServer(log));
    log(wrapper);

    const [uiPort, testPort] = await findFreePorts(2);
    const stack = await timed('start the local stack (tools/local-stack.ts)', () =>
      LocalStack.start({
        dataDir: dir,
        log,
        postgres: {
          port: 0,
          database: 'ai_credits',
          settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
        },
        temporal: { port: 0, uiPort, dynamicConfig: { 'limit.maxIDLength': 255 } },
        smtp: { port: 0 },
      }),
    );
    toStop.push({ name: 'local stack', stop: () => stack.stop() });
    pgDataDir = stack.postgres?.dataDir;
    const testServer: RunningServer = await timed('start Java test server (time skipping)', () =>
      startJavaTestServer({
        port: testPort,
        timeSkipping: true,
        logFile: path.join(dir, 'logs', 'test-server.log'),
        log,
      }),
    );
    toStop.push({ name: 'Java test server', stop: testServer.stop });

    await timed('pg: select 1', async () => {
      const client = new Client({ connectionString: stack.databaseUrl });
      await client.connect();
      const res = await client.query<{ one: number; db: string }>('select 1 as one, current_database() as db');
      await client.end();
      log(`select 1 -> ${res.rows[0].one} (database ${res.rows[0].db})`);
    });
    await timed('temporal UI: GET /', async () => {
      const res = await fetch(stack.temporalUiUrl!);
      if (!res.ok) throw new Error(`${stack.temporalUiUrl} answered ${res.status}`);
      log(`${stack.temporalUiUrl} -> ${res.status}`);
    });
    await timed('temporal: health + list namespaces', async () => {
      const connection = await Connection.connect({ address: stack.temporalAddress });
      const health = await connection.healthService.check({});
      const ns = await connection.workflowService.listNamespaces({});
      const names = ns.namespaces.map((n) => n.namespaceInfo?.name).join(', ');
      log(`health status ${String(health.status)}, namespaces: ${names}`);
      await connection.close();
    });
    await timed('test server: getSystemInfo', async () => {
      const connection = await Connection.connect({ address: testServer.address });
      const info = await connection.workflowService.getSystemInfo({});
      log(`getSystemInfo ok (capabilities: ${Object.keys(info.capabilities ?? {}).length})`);
      await connection.close();
    });
    await timed('SDK: createTimeSkipping with the wrapper + env.sleep(30 days)', async () => {
      const env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: wrapper } },
      });
      try {
        const before = await env.currentTimeMs();
        await env.sleep('30 days');
        const skipped = (await env.currentTimeMs()) - before;
        log(`supportsTimeSkipping=${env.supportsTimeSkipping}, skipped ${(skipped / 86_400_000).toFixed(2)} days`);
      } finally {
        await env.teardown();
      }
    });
  } catch (err) {
    failed = true;
    console.error(`\nFAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const s of toStop.reverse()) {
      try {
        await timed(`stop ${s.name}`, s.stop);
      } catch (err) {
        failed = true;
        console.error(`stopping ${s.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!keep && !failed) {
      rmSync(dir, { recursive: true, force: true });
      // A fallback data dir (/var/lib/ai-credits-pg/<hash>) is specific to this temp dir: remove it too.
      if (pgDataDir !== undefined && !pgDataDir.startsWith(dir)) rmSync(pgDataDir, { recursive: true, force: true });
    } else console.log(`kept ${dir}`);
  }
  console.log('\ntimings:');
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(45)} ${formatDuration(ms)}`);
  process.exitCode = failed ? 1 : 0;
}

void main();
