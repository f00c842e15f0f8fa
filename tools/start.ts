/**
 * `npm start`: the whole service on one machine. Starts what the environment does not give (tools/local-stack.ts:
 * PostgreSQL, a Temporal dev server with its Web UI, an SMTP catcher), migrates the database, and runs the worker
 * and the HTTP API in this process. Ctrl-C stops everything it started. Data stays under `.data/` between runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApiApp, createLogger } from '../src/api/server';
import { checkProvisioningToken, loadConfig } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { createSmtpMailer } from '../src/mailer';
import { connectClient, connectWorker, plainText } from '../src/temporal/connection';
import { createWorker, installSdkLogger } from '../src/worker';
import { componentLine, LocalStack } from './local-stack';
import { assertPortFree, formatDuration } from './procs';

const log = (msg: string) => console.log(`[start] ${msg}`);
const root = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  installSdkLogger(config.logLevel);
  const dataDir = path.resolve(process.env.DATA_DIR ?? path.join(root, '.data'));
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(String(err)));
    log('stopped');
    process.exit(code);
  };
  // Kept for the whole shutdown: Ctrl-C reaches this process more than once (from the terminal and relayed by npm
  // and tsx), and tsx exits at once on a signal nobody listens to, which would leave the servers running.
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    // Refused before anything starts: a short token would open every team.
    const provisioning = provisioningToken(config.provisioningToken, dataDir);
    await assertPortFree(config.port, 'HTTP API', { hint: 'Stop the other process or set PORT.', host: config.host });
    const stack = await LocalStack.start({
      dataDir,
      log,
      postgres: { url: config.databaseUrl, port: portFromEnv('POSTGRES_PORT', 54329), database: 'ai_credits' },
      temporal: {
        address: config.temporalAddress,
        port: portFromEnv('TEMPORAL_PORT', 7233),
        uiPort: portFromEnv('TEMPORAL_UI_PORT', 8233),
      },
      smtp: { url: config.smtpUrl, port: portFromEnv('SMTP_PORT', 1025), saveDir: path.join(dataDir, 'mail') },
    });
    stops.push(() => stack.stop());

    const db = createDb(stack.databaseUrl);
    stops.push(() => db.destroy());
    const applied = await migrateLatest(db);
    log(componentLine('migrations', applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'));

    // A server given is reached as configured (TLS, API key); the dev server started here speaks plain text.
    const temporal = stack.temporal === undefined ? config.temporal : plainText(config.temporal);
    const nativeConnection = await connectWorker(temporal, stack.temporalAddress);
    stops.push(() => nativeConnection.close());
    const mailer = createSmtpMailer(stack.smtpUrl!);
    stops.push(async () => mailer.close());
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      db,
      mailer,
      webhooks: config.webhooks,
    });
    const workerDone = worker.run();
    stops.push(async () => {
      // The SDK's runtime may have begun the shutdown on the same signal already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone;
    });
    log(
      componentLine(
        'worker',
        `task queue ${config.taskQueue}`,
        `namespace ${config.temporalNamespace}, ${temporal.description}`,
      ),
    );

    const connection = await connectClient(temporal, stack.temporalAddress);
    stops.push(() => connection.close());
    const app = await createApiApp({
      db,
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      provisioningToken: provisioning.token,
      rateLimits: config.rateLimits,
      webhooks: config.webhooks,
      logger: createLogger(config.logLevel),
    });
    await app.listen({ port: config.port, host: config.host });
    stops.push(() => app.close());
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    log(componentLine('API', url, `dashboard ${url}/dashboard, OpenAPI ${url}/openapi.json`));
    log(componentLine('token', provisioning.shown, provisioning.detail));
    log(`ready in ${formatDuration(Date.now() - started)}; Ctrl-C stops everything`);
    await workerDone;
  } catch (err) {
    console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/**
 * The provisioning token: PROVISIONING_TOKEN when given, else the local install's, generated once into
 * `.data/provisioning-token`. Its secret is printed only by the start that generated it; later starts name the file,
 * and a token from the environment is never printed (whoever set it knows it, and logs are read by others).
 */
function provisioningToken(
  fromEnv: string | undefined,
  dataDir: string,
): { token: string; shown: string; detail: string } {
  if (fromEnv)
    return { token: checkProvisioningToken(fromEnv), shown: 'from PROVISIONING_TOKEN', detail: 'provisioning' };
  const file = path.join(dataDir, 'provisioning-token');
  const shownFile = path.relative(process.cwd(), file) || file;
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    try {
      checkProvisioningToken(token);
    } catch (err) {
      throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}; delete the file to get a new one`);
    }
    return { token, shown: `in ${shownFile}`, detail: 'provisioning; printed only when generated' };
  }
  const token = `prov_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, shown: token, detail: `provisioning, generated now and kept in ${shownFile}` };
}

void main();
