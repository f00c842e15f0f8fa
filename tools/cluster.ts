/**
 * `npm run cluster`: the production topology on this machine. The real Temporal server (built from its Go module
 * at the version docker-compose.yml pins, tools/temporal-server.ts) on PostgreSQL, in databases of its own
 * (`temporal`, `temporal_visibility`, schemas set up with its SQL tool), with the history shards, dynamic config
 * and configuration template of compose, and mutual TLS on its frontend and between its services (certificates
 * made with openssl, tools/certs.ts); the Temporal Web UI; then 2 workers and 2 API instances (each connected with
 * its own client certificate) behind a round-robin on one port. A process that dies is started again. Ctrl-C
 * stops everything. Data under `.data/cluster/` (CLUSTER_DATA_DIR); `.data/cluster/cluster.json` says where
 * everything is (the soak reads it), `.data/cluster/env` and `.data/cluster/temporal.toml` connect a shell.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { checkProvisioningToken } from '../src/config';
import { createDb, migrateLatest } from '../src/db/knex';
import { connectClient, temporalSettings } from '../src/temporal/connection';
import { ensureCertificates, SERVER_NAME, type CertificateFiles } from './certs';
import { Fleet } from './fleet';
import { componentLine, LocalStack } from './local-stack';
import {
  assertPortFree,
  describeExit,
  findFreePorts,
  formatDuration,
  hasExited,
  isPortFree,
  killOnExit,
  runChecked,
  spawnLogged,
  stopListWithSignals,
  stopProcess,
  tailFile,
  waitForTcp,
} from './procs';
import { composeTemporal, ensureTemporalServer, ensureTemporalUi } from './temporal-server';

const log = (msg: string) => console.log(`[cluster] ${msg}`);
const root = path.resolve(__dirname, '..');
const NAMESPACE = process.env.TEMPORAL_NAMESPACE || 'default';
const CLIENTS = ['worker-1', 'worker-2', 'api-1', 'api-2', 'tools', 'ui'];

/** What `.data/cluster/cluster.json` holds, for the soak and other tools. */
export interface ClusterState {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  namespace: string;
  databaseUrl: string;
  smtpUrl: string;
  provisioningTokenFile: string;
  /** Environment that connects a process to this cluster's Temporal (the `tools` client certificate). */
  temporalEnv: Record<string, string>;
  historyShards: number;
  pids: Record<string, number>;
  /** Processes measured by tree (PostgreSQL: the postmaster and its backends). */
  treePids: Record<string, number>;
}

export function clusterDataDir(): string {
  return path.resolve(process.env.CLUSTER_DATA_DIR ?? path.join(root, '.data', 'cluster'));
}

export function readClusterState(dir = clusterDataDir()): ClusterState | undefined {
  const file = path.join(dir, 'cluster.json');
  if (!existsSync(file)) return undefined;
  // `{}` once the cluster has stopped.
  const state = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterState>;
  return state.apiUrl === undefined ? undefined : (state as ClusterState);
}

function portFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = clusterDataDir();
  mkdirSync(dataDir, { recursive: true });
  const { stops, stopAll } = stopListWithSignals('cluster', log);
  const apiPort = portFromEnv('PORT', 3000);
  const frontendPort = portFromEnv('TEMPORAL_PORT', 7233);
  const uiPort = portFromEnv('TEMPORAL_UI_PORT', 8233);
  for (const [port, what, variable] of [
    [apiPort, 'the API round-robin', 'PORT'],
    [frontendPort, 'the Temporal frontend', 'TEMPORAL_PORT'],
    [uiPort, 'the Temporal UI', 'TEMPORAL_UI_PORT'],
  ] as const) {
    await assertPortFree(port, what, { hint: `Stop the other process (npm start?) or set ${variable}.` });
  }
  const provisioningTokenFile = path.join(dataDir, 'provisioning-token');
  const provisioningToken = checkProvisioningToken(
    process.env.PROVISIONING_TOKEN || readOrMakeToken(provisioningTokenFile),
  );

  try {
    const compose = composeTemporal();
    const historyShards = Number(compose.serverEnv.NUM_HISTORY_SHARDS ?? 4);
    // Side by side: the Go builds (first run only) while PostgreSQL starts and the certificates are made.
    const [binaries, uiServer, stack, certs] = await Promise.all([
      ensureTemporalServer(compose.serverVersion, log),
      ensureTemporalUi(compose.uiVersion, log).catch((err: Error) => {
        log(`Temporal UI not available: ${err.message.split('\n')[0]}`);
        return undefined;
      }),
      LocalStack.start({
        dataDir,
        log,
        postgres: {
          url: process.env.DATABASE_URL || undefined,
          port: portFromEnv('POSTGRES_PORT', 54339),
          database: 'ai_credits',
          settings: { max_connections: '300' },
        },
        smtp: { url: process.env.SMTP_URL || undefined, port: 0, saveDir: path.join(dataDir, 'mail') },
      }),
      ensureCertificates(path.join(dataDir, 'certs'), CLIENTS),
    ]);
    stops.push(() => stack.stop());

    // ---- Temporal's databases, on the same PostgreSQL as the service's, each its own database ----
    const pgUrl = new URL(stack.databaseUrl);
    const db = {
      host: pgUrl.hostname,
      port: pgUrl.port || '5432',
      user: decodeURIComponent(pgUrl.username) || 'postgres',
      password: decodeURIComponent(pgUrl.password),
    };
    const schemaStarted = Date.now();
    for (const [database, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      const created = await createDatabaseIfMissing(stack.databaseUrl, database);
      const sql = (args: string[]) =>
        runChecked(
          binaries.sqlTool,
          [
            '--plugin',
            'postgres12',
            '--ep',
            db.host,
            '-p',
            db.port,
            '-u',
            db.user,
            '--pw',
            db.password,
            '--db',
            database,
            ...args,
          ],
          { what: `temporal-sql-tool (${database})` },
        );
      if (created) await sql(['setup-schema', '-v', '0.0']);
      await sql(['update-schema', '--schema-name', `postgresql/v12/${schema}`]);
    }
    log(
      componentLine(
        'schemas',
        `temporal, temporal_visibility`,
        `server ${binaries.version}, ${formatDuration(Date.now() - schemaStarted)}`,
      ),
    );

    // ---- the server, configured by its image's template with compose's settings ----
    const serverStarted = Date.now();
    const [httpPort, historyPort, matchingPort, workerPort] = await findFreePorts(4, '127.0.0.1', [
      frontendPort,
      uiPort,
      apiPort,
    ]);
    const membership = await membershipPorts(frontendPort - 300, [frontendPort, uiPort, apiPort]);
    const dynamicConfig = path.join(root, 'docker', 'temporal', 'dynamicconfig', 'ai-credits.yaml');
    const serverEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...compose.serverEnv,
      POSTGRES_SEEDS: db.host,
      DB_PORT: db.port,
      // The template reads the visibility store's port from POSTGRES_PORT, not DB_PORT (compose's is 5432 for both).
      VISIBILITY_DB_PORT: db.port,
      POSTGRES_USER: db.user,
      POSTGRES_PWD: db.password,
      NUM_HISTORY_SHARDS: String(historyShards),
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
      LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'warn',
      FRONTEND_GRPC_PORT: String(frontendPort),
      FRONTEND_HTTP_PORT: String(httpPort),
      HISTORY_GRPC_PORT: String(historyPort),
      MATCHING_GRPC_PORT: String(matchingPort),
      WORKER_GRPC_PORT: String(workerPort),
      FRONTEND_MEMBERSHIP_PORT: String(membership[0]),
      HISTORY_MEMBERSHIP_PORT: String(membership[1]),
      MATCHING_MEMBERSHIP_PORT: String(membership[2]),
      WORKER_MEMBERSHIP_PORT: String(membership[3]),
      ...tlsServerEnv(certs),
    };
    const serverLog = path.join(dataDir, 'logs', 'temporal-server.log');
    const server = spawnLogged(
      binaries.server,
      ['--config-file', binaries.configTemplate, '--allow-no-auth', 'start'],
      {
        logFile: serverLog,
        env: serverEnv,
      },
    );
    killOnExit(server);
    stops.push(() => stopProcess(server, 30_000));
    const temporalAddress = `127.0.0.1:${frontendPort}`;
    await waitForTcp(frontendPort, '127.0.0.1', 180_000, {
      child: server,
      logFile: serverLog,
      what: 'Temporal server',
    });
    const temporalEnv = clientEnv(certs, 'tools', temporalAddress);
    await registerNamespace(temporalEnv, () => {
      if (hasExited(server)) {
        throw new Error(
          `Temporal server ${describeExit(server)}. Last lines of ${serverLog}:\n${tailFile(serverLog, 20)}`,
        );
      }
    });
    log(
      componentLine(
        'Temporal',
        temporalAddress,
        `server ${binaries.version}, PostgreSQL persistence, ${historyShards} history shards, mTLS, namespace ${NAMESPACE}, ${formatDuration(Date.now() - serverStarted)}`,
      ),
    );

    // ---- the Web UI, a client of the frontend with its own certificate ----
    let temporalUiUrl: string | undefined;
    if (uiServer !== undefined) {
      const uiDir = path.join(dataDir, 'ui');
      mkdirSync(path.join(uiDir, 'config'), { recursive: true });
      writeFileSync(
        path.join(uiDir, 'config', 'cluster.yaml'),
        [
          `temporalGrpcAddress: ${temporalAddress}`,
          'host: 127.0.0.1',
          `port: ${uiPort}`,
          'enableUi: true',
          `defaultNamespace: ${NAMESPACE}`,
          'tls:',
          `  caFile: ${certs.caCert}`,
          `  certFile: ${certs.clients.ui.cert}`,
          `  keyFile: ${certs.clients.ui.key}`,
          `  serverName: ${SERVER_NAME}`,
          '  enableHostVerification: true',
          'cors:',
          '  cookieInsecure: true',
          '',
        ].join('\n'),
      );
      const uiLog = path.join(dataDir, 'logs', 'temporal-ui.log');
      const ui = spawnLogged(uiServer, ['--root', uiDir, '--config', 'config', '--env', 'cluster', 'start'], {
        logFile: uiLog,
      });
      killOnExit(ui);
      stops.push(() => stopProcess(ui));
      await waitForTcp(uiPort, '127.0.0.1', 60_000, { child: ui, logFile: uiLog, what: 'Temporal UI' });
      temporalUiUrl = `http://127.0.0.1:${uiPort}`;
      log(componentLine('Temporal UI', temporalUiUrl, `ui-server ${compose.uiVersion}, mTLS to the frontend`));
    }

    // ---- the service: migrations once, then the processes ----
    const appDb = createDb(stack.databaseUrl);
    const applied = await migrateLatest(appDb);
    await appDb.destroy();
    log(componentLine('migrations', applied.length ? `applied ${applied.join(', ')}` : 'schema up to date'));

    const fleetStarted = Date.now();
    const holder: { state?: ClusterState } = {};
    const writeState = () => {
      const state = holder.state;
      if (state === undefined) return;
      state.pids = {
        'temporal-server': server.pid!,
        ...Object.fromEntries(fleet.members.map((m) => [m.name, m.pid])),
      };
      writeAtomically(path.join(dataDir, 'cluster.json'), `${JSON.stringify(state, null, 2)}\n`);
    };
    const fleet: Fleet = await Fleet.start({
      workers: 2,
      apis: 2,
      port: apiPort,
      logDir: path.join(dataDir, 'logs'),
      log,
      env: {
        ...withoutTemporalSettings(process.env),
        DATABASE_URL: stack.databaseUrl,
        TEMPORAL_NAMESPACE: NAMESPACE,
        SMTP_URL: stack.smtpUrl,
        PROVISIONING_TOKEN: provisioningToken,
        NODE_ENV: 'production',
      },
      envOf: (name) => clientEnv(certs, name, temporalAddress),
      onChange: () => writeState(),
    });
    stops.push(() => fleet.stop());
    log(
      componentLine(
        'service',
        fleet.url,
        `round-robin over ${fleet.members
          .filter((m) => m.kind === 'api')
          .map((m) => m.url)
          .join(', ')}; workers ${fleet.members
          .filter((m) => m.kind === 'worker')
          .map((m) => `pid ${m.pid}`)
          .join(', ')}; ${formatDuration(Date.now() - fleetStarted)}`,
      ),
    );

    holder.state = {
      apiUrl: fleet.url,
      temporalAddress,
      temporalUiUrl,
      namespace: NAMESPACE,
      databaseUrl: stack.databaseUrl,
      smtpUrl: stack.smtpUrl!,
      provisioningTokenFile: process.env.PROVISIONING_TOKEN ? '(PROVISIONING_TOKEN)' : provisioningTokenFile,
      temporalEnv,
      historyShards,
      pids: {},
      treePids: stack.postgres?.pid ? { postgresql: stack.postgres.pid } : {},
    };
    writeState();
    stops.push(async () => writeAtomically(path.join(dataDir, 'cluster.json'), '{}\n'));
    writeShellFiles(dataDir, temporalEnv, stack.databaseUrl, fleet.url, certs);
    log(
      componentLine(
        'token',
        process.env.PROVISIONING_TOKEN ? '(PROVISIONING_TOKEN)' : provisioningTokenFile,
        'provisioning',
      ),
    );
    log(
      componentLine(
        'shell',
        `source ${path.relative(process.cwd(), path.join(dataDir, 'env'))}`,
        'or TEMPORAL_CONFIG_FILE=… TEMPORAL_PROFILE=cluster',
      ),
    );
    log(`ready in ${formatDuration(Date.now() - started)}; Ctrl-C stops everything`);
    await new Promise(() => undefined);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Four free ports for the services' membership (ringpop), from `from` up (6933 for a frontend on 7233, as in
 * Temporal's defaults): the server stores them in a smallint column, so they must stay below 32768.
 */
async function membershipPorts(from: number, exclude: number[]): Promise<number[]> {
  const ports: number[] = [];
  for (let p = Math.max(1024, from); ports.length < 4 && p < 32768; p++) {
    if (!exclude.includes(p) && (await isPortFree(p))) ports.push(p);
  }
  if (ports.length < 4) throw new Error('no four free ports below 32768 for Temporal membership');
  return ports;
}

/** The server image's TLS variables: mutual TLS on the frontend and between Temporal's own services. */
function tlsServerEnv(certs: CertificateFiles): NodeJS.ProcessEnv {
  return {
    TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
    // Internode: the services present the server certificate to each other (it has both usages).
    TEMPORAL_TLS_SERVER_CERT: certs.serverCert,
    TEMPORAL_TLS_SERVER_KEY: certs.serverKey,
    TEMPORAL_TLS_SERVER_CA_CERT: certs.caCert,
    TEMPORAL_TLS_INTERNODE_SERVER_NAME: SERVER_NAME,
    // Frontend: what clients see; client certificates must come from our CA.
    TEMPORAL_TLS_FRONTEND_CERT: certs.serverCert,
    TEMPORAL_TLS_FRONTEND_KEY: certs.serverKey,
    TEMPORAL_TLS_CLIENT1_CA_CERT: certs.caCert,
    TEMPORAL_TLS_CLIENT2_CA_CERT: certs.caCert,
    TEMPORAL_TLS_FRONTEND_SERVER_NAME: SERVER_NAME,
  };
}

/** How a process reaches the cluster's Temporal: the variables of src/temporal/connection.ts. */
function clientEnv(certs: CertificateFiles, client: string, address: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clients[client].cert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clients[client].key,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  };
}

/** The shell's own Temporal settings are for another Temporal: the processes here get this cluster's. */
function withoutTemporalSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => !/^TEMPORAL_(ADDRESS|TLS|API_KEY|PROFILE|CONFIG_FILE|GRPC_META_)/.test(k)),
  );
}

/** Waits for the frontend to answer over mTLS, then registers the namespace when missing (24 h retention). */
async function registerNamespace(env: Record<string, string>, checkAlive: () => void): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    checkAlive();
    try {
      const connection = await connectClient(temporalSettings(env));
      try {
        const service = connection.workflowService;
        const exists = await service.describeNamespace({ namespace: NAMESPACE }).then(
          () => true,
          (err: { code?: number }) => {
            if (err.code === 5) return false; // NOT_FOUND
            throw err;
          },
        );
        if (!exists) {
          await service.registerNamespace({
            namespace: NAMESPACE,
            workflowExecutionRetentionPeriod: msToTs('24h'),
          });
        }
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal did not become ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function createDatabaseIfMissing(url: string, name: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return false;
    await client.query(`create database ${name}`);
    return true;
  } finally {
    await client.end();
  }
}

/** Readers (the soak, polling for restarts) never see a half-written file. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function readOrMakeToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `prov_${randomBytes(24).toString('hex')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

function writeShellFiles(
  dir: string,
  temporalEnv: Record<string, string>,
  databaseUrl: string,
  apiUrl: string,
  certs: CertificateFiles,
): void {
  const env = { ...temporalEnv, DATABASE_URL: databaseUrl, API_URL: apiUrl };
  writeFileSync(
    path.join(dir, 'env'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${v}\n`)
      .join(''),
  );
  writeFileSync(
    path.join(dir, 'temporal.toml'),
    [
      '[profile.cluster]',
      `address = "${temporalEnv.TEMPORAL_ADDRESS}"`,
      `namespace = "${NAMESPACE}"`,
      '[profile.cluster.tls]',
      `client_cert_path = "${certs.clients.tools.cert}"`,
      `client_key_path = "${certs.clients.tools.key}"`,
      `server_ca_cert_path = "${certs.caCert}"`,
      `server_name = "${SERVER_NAME}"`,
      '',
    ].join('\n'),
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
