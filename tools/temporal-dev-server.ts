/**
 * A local Temporal dev server (`temporal server start-dev`, SQLite state in `<dataDir>/temporal.db`), the one
 * `npm start`, `npm test`, the fault suite and the bench run.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import {
  assertPortFree,
  describeExit,
  findFreePorts,
  hasExited,
  indent,
  isPidAlive,
  killOnExit,
  spawnLogged,
  stopProcess,
  tailFile,
  waitForTcp,
  type Log,
} from './procs';
import { ensureTemporalCli } from './temporal-cli';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface TemporalDevServerOptions {
  /** gRPC frontend port (the address is `127.0.0.1:<port>`). */
  port: number;
  /** Web UI port; unset: no UI (`--headless`). */
  uiPort?: number;
  /** Folder for `temporal.db` (kept across restarts unless `fresh`). */
  dataDir: string;
  /** Start from empty state: the previous run's `temporal.db` is deleted. */
  fresh?: boolean;
  logFile: string;
  /** `--dynamic-config-value KEY=VALUE` entries; values are JSON-encoded (strings get quotes). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Log level of the server (default "warn"). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the server to answer (default 90 s). */
  startTimeoutMs?: number;
  log: Log;
}

export interface RunningServer {
  /** `host:port` to pass to `Connection.connect({ address })`. */
  address: string;
  /** SIGTERM, then SIGKILL after a timeout; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface RunningDevServer extends RunningServer {
  pid: number;
  /** `http://127.0.0.1:<uiPort>` when the Web UI runs. */
  uiUrl?: string;
  /** The CLI that runs it. */
  cli: string;
}

/**
 * Runs the dev server on `127.0.0.1:<port>` and resolves once its frontend answers a health check and the
 * "default" namespace is usable. The HTTP API and metrics ports are picked free at random, so several dev servers
 * can run side by side.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<RunningDevServer> {
  const host = '127.0.0.1';
  mkdirSync(opts.dataDir, { recursive: true });
  const pidFile = path.join(opts.dataDir, 'temporal-dev-server.json');
  const dbFile = path.join(opts.dataDir, 'temporal.db');
  await stopLeftoverDevServer(pidFile, opts.log);
  if (opts.fresh) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(dbFile + suffix, { force: true });
  const checkPorts = async () => {
    const hint = 'Stop the other process or set TEMPORAL_ADDRESS / TEMPORAL_PORT.';
    await assertPortFree(opts.port, 'Temporal dev server', { hint });
    if (opts.uiPort !== undefined) {
      await assertPortFree(opts.uiPort, 'Temporal Web UI', { hint: 'Stop the other process or set TEMPORAL_UI_PORT.' });
    }
  };
  await checkPorts();
  const ensureStarted = Date.now();
  const cli = await ensureTemporalCli(opts.log);
  // A first install takes a while (minutes when built from source): check the ports again rather than fail with a
  // log tail.
  if (Date.now() - ensureStarted > 1000) await checkPorts();
  const [httpPort, metricsPort] = await findFreePorts(2, host, [opts.port, opts.uiPort ?? 0]);
  const args = [
    ...['server', 'start-dev', '--ip', host, '--port', String(opts.port)],
    ...['--http-port', String(httpPort), '--metrics-port', String(metricsPort)],
    ...['--db-filename', dbFile, '--log-level', opts.logLevel ?? 'warn'],
    ...(opts.uiPort === undefined ? ['--headless'] : ['--ui-port', String(opts.uiPort)]),
  ];
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const address = `${host}:${opts.port}`;
  const started = Date.now();
  const child = spawnLogged(cli, args, { logFile: opts.logFile });
  killOnExit(child);
  if (child.pid !== undefined) {
    const info: DevServerPidFile = { pid: child.pid, ownerPid: process.pid, port: opts.port };
    writeFileSync(pidFile, JSON.stringify(info));
  }
  const stop = async (): Promise<void> => {
    await stopProcess(child, 15_000);
    rmSync(pidFile, { force: true });
  };
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const uiUrl = opts.uiPort === undefined ? undefined : `http://${host}:${opts.uiPort}`;
  try {
    await waitForTcp(opts.port, host, timeoutMs, { child, what: 'Temporal dev server', logFile: opts.logFile });
    await waitForTemporalReady(address, 'default', started + timeoutMs, () => {
      if (hasExited(child)) {
        throw new Error(
          `The Temporal dev server exited (${describeExit(child)}) during startup. Last lines of ${opts.logFile}:\n` +
            indent(tailFile(opts.logFile, 15)),
        );
      }
    });
    if (opts.uiPort !== undefined) {
      await waitForTcp(opts.uiPort, host, started + timeoutMs - Date.now(), {
        child,
        what: 'Temporal Web UI',
        logFile: opts.logFile,
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, stop, pid: child.pid!, uiUrl, cli };
}

interface DevServerPidFile {
  pid: number;
  /** The Node process that started it. */
  ownerPid: number;
  port: number;
}

/**
 * A dev server still running on the same data directory (its SQLite file) from a run that was killed: stop it.
 * Refuse when the run that started it is still alive (two servers must not share one SQLite file).
 */
async function stopLeftoverDevServer(pidFile: string, log: Log): Promise<void> {
  let info: DevServerPidFile;
  try {
    info = JSON.parse(readFileSync(pidFile, 'utf8')) as DevServerPidFile;
  } catch {
    return;
  }
  const isDevServer = (): boolean => {
    try {
      return readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0').includes('start-dev');
    } catch {
      return false;
    }
  };
  if (!isPidAlive(info.pid) || !isDevServer()) {
    rmSync(pidFile, { force: true });
    return;
  }
  if (info.ownerPid !== process.pid && isPidAlive(info.ownerPid)) {
    throw new Error(
      `A Temporal dev server (pid ${info.pid}, port ${info.port}) started by another running process ` +
        `(pid ${info.ownerPid}) already uses ${path.dirname(pidFile)}. Stop that process first or use another ` +
        'data directory.',
    );
  }
  log(`Stopping a Temporal dev server left over from a previous run (pid ${info.pid}, port ${info.port})…`);
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isPidAlive(info.pid) && isDevServer()) {
    if (Date.now() > deadline) {
      process.kill(info.pid, 'SIGKILL');
      break;
    }
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
}

/**
 * Polls a Temporal frontend until its gRPC health check says SERVING and `namespace` can be described.
 * `check` runs between attempts (e.g. to fail fast when the server process died).
 */
export async function waitForTemporalReady(
  address: string,
  namespace: string,
  deadline: number,
  check: () => void = () => undefined,
): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    check();
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2000 });
      const health = await connection.healthService.check({
        service: 'temporal.api.workflowservice.v1.WorkflowService',
      });
      if (health.status !== 1 /* SERVING */) throw new Error(`health status ${String(health.status)}`);
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(250);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`The Temporal server at ${address} did not become ready in time (last error: ${reason}).`);
}
