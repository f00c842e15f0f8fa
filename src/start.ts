/**
 * `npm start`: the whole service on one machine. Starts what is not given by the environment (a Temporal dev
 * server, a private PostgreSQL cluster, a local SMTP catcher), migrates the database, and runs the worker and
 * the HTTP API in this process. Ctrl-C stops everything it started. Data stays under `.data/` between runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { createApiApp } from './api/server';
import { loadConfig } from './config';
import { createDb, migrateLatest } from './db/knex';
import { MailCatcher } from './mail-catcher';
import { createSmtpMailer } from './mailer';
import { startPostgres } from './stack/postgres';
import { assertPortFree } from './stack/procs';
import { startTemporalDevServer } from './stack/temporal-cli';
import { createWorker } from './worker';

const log = (msg: string) => console.log(`[start] ${msg}`);

async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
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
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    await assertPortFree(config.port, 'HTTP API', { hint: 'Stop the other process or set PORT.', host: config.host });

    let databaseUrl: string | undefined = config.databaseUrl;
    if (databaseUrl === undefined) {
      const port = Number(process.env.POSTGRES_PORT ?? 54329);
      log(`starting PostgreSQL on 127.0.0.1:${port} (data in ${path.join(config.dataDir, 'pg')})…`);
      const postgres = await startPostgres({
        dataDir: path.join(config.dataDir, 'pg'),
        port,
        log,
        logFile: path.join(config.dataDir, 'postgres.log'),
      });
      stops.push(postgres.stop);
      databaseUrl = postgres.databaseUrl;
    }

    let temporalAddress = config.temporalAddress;
    if (!temporalAddress) {
      const port = Number(process.env.TEMPORAL_PORT ?? 7233);
      log(`starting the Temporal dev server on 127.0.0.1:${port} (state in ${config.dataDir}/temporal.db)…`);
      const temporal = await startTemporalDevServer({
        port,
        dataDir: config.dataDir,
        logFile: path.join(config.dataDir, 'temporal.log'),
        log,
      });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
    }

    let smtpUrl = config.smtpUrl;
    if (!smtpUrl) {
      const port = Number(process.env.SMTP_PORT ?? 1025);
      await assertPortFree(port, 'local SMTP catcher', { hint: 'Stop the other process or set SMTP_URL / SMTP_PORT.' });
      const catcher = new MailCatcher(path.join(config.dataDir, 'mail'));
      smtpUrl = await catcher.start(port);
      stops.push(() => catcher.stop());
      log(`local SMTP catcher on ${smtpUrl}; emails are saved in ${path.join(config.dataDir, 'mail')}`);
    }

    const db = createDb(databaseUrl as string);
    stops.push(() => db.destroy());
    const applied = await migrateLatest(db);
    log(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema is up to date');

    const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
    stops.push(() => nativeConnection.close());
    const mailer = createSmtpMailer(smtpUrl);
    stops.push(async () => mailer.close());
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      db,
      mailer,
    });
    const workerDone = worker.run();
    stops.push(async () => {
      // The SDK's runtime may have begun the shutdown on the same signal already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerDone;
    });
    log(`worker polling task queue ${config.taskQueue}`);

    const connection = await Connection.connect({ address: temporalAddress });
    stops.push(() => connection.close());
    const provisioningToken = config.provisioningToken ?? provisioningTokenFromDataDir(config.dataDir);
    const app = await createApiApp({
      db,
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      provisioningToken,
      logger: pino({ level: config.logLevel, redact: ['req.headers.authorization'] }),
    });
    await app.listen({ port: config.port, host: config.host });
    stops.push(() => app.close());
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
    log(`API listening on ${url}  (dashboard: ${url}/dashboard, OpenAPI: ${url}/openapi.json)`);
    log(`provisioning token: ${provisioningToken}`);
    log('ready; Ctrl-C to stop');
    await workerDone;
  } catch (err) {
    console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
}

/** The provisioning token of a local install: generated once, kept in `.data/provisioning-token`. */
function provisioningTokenFromDataDir(dataDir: string): string {
  const file = path.join(dataDir, 'provisioning-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `prov_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

void main();
