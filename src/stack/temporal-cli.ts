/**
 * The Temporal CLI (`temporal`), used to run a local Temporal dev server (`temporal server start-dev`).
 *
 * No prebuilt binary can be downloaded here (only package registries are reachable), so when `temporal` is not on
 * PATH it is built once with `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` (newer tags can't be
 * `go install`ed because of `replace` directives) into `<cacheDir>/bin`. Measured on a 2-CPU machine with empty Go
 * module and build caches: 3 min 38 s (1.8 GB of modules, 1.4 GB of build cache, a 213 MB binary); later runs
 * reuse the binary instantly.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { cacheDir, withLock } from './cache';
import {
  assertPortFree,
  describeExit,
  findFreePorts,
  formatDuration,
  hasExited,
  indent,
  isExecutable,
  isPidAlive,
  killOnExit,
  spawnLogged,
  stopProcess,
  tailFile,
  waitForTcp,
  which,
  type Log,
} from './procs';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const TEMPORAL_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Where the CLI is built to and looked up: `<cacheDir>/bin/temporal`. */
export function cachedTemporalCliPath(): string {
  return path.join(cacheDir(), 'bin', 'temporal');
}

/**
 * Path of a `temporal` binary: `$TEMPORAL_CLI_PATH`, else `temporal` on PATH, else the cached build, else it is
 * built now with `go install` (first run only; concurrent runs wait for one build).
 */
export async function ensureTemporalCli(log: Log): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) {
      throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file. Fix the path or unset it.`);
    }
    return fromEnv;
  }
  const onPath = which('temporal');
  if (onPath !== undefined) return onPath;

  const target = cachedTemporalCliPath();
  if (isExecutable(target)) return target;

  await waitForForeignGoInstall(path.dirname(target), log);
  if (isExecutable(target)) return target;

  return withLock('temporal-cli', { what: `building the Temporal CLI into ${target}`, log }, async () => {
    if (isExecutable(target)) return target; // built by the process we waited for
    await buildTemporalCli(target, log);
    return target;
  });
}

async function buildTemporalCli(target: string, log: Log): Promise<void> {
  const go = which('go', ['/usr/local/go/bin', path.join(process.env.HOME ?? '/root', 'go', 'bin')]);
  if (go === undefined) {
    throw new Error(
      'The Temporal CLI (`temporal`) is not on PATH and Go is not installed to build it. Either install the ' +
        'Temporal CLI (https://docs.temporal.io/cli#install) and put it on PATH (or set TEMPORAL_CLI_PATH), ' +
        'install Go >= 1.24 (https://go.dev/dl/) so it can be built automatically, or set TEMPORAL_ADDRESS to ' +
        'use a Temporal server that is already running.',
    );
  }
  const binDir = path.dirname(target);
  const stagingDir = path.join(binDir, `.staging-${process.pid}`);
  const logFile = path.join(cacheDir(), 'logs', 'go-install-temporal.log');
  rmSync(stagingDir, { recursive: true, force: true });
  mkdirSync(stagingDir, { recursive: true });

  log(`Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with go install (first run only, a few minutes)…`);
  log(`  output: ${logFile}`);
  const started = Date.now();
  const child = spawnLogged(
    go,
    [
      'install',
      // Stripped and stamped with its real version (`temporal --version`); -trimpath keeps the build reproducible.
      '-trimpath',
      `-ldflags=-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
      `${TEMPORAL_CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}`,
    ],
    { logFile, env: { ...process.env, GOBIN: stagingDir, GOFLAGS: process.env.GOFLAGS ?? '' } },
  );
  const removeHook = killOnExit(child);
  const heartbeat = setInterval(() => {
    log(`  still building the Temporal CLI… (${formatDuration(Date.now() - started)} so far)`);
  }, 30_000);
  try {
    await new Promise<void>((resolve) => {
      if (hasExited(child)) resolve();
      else child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
  } finally {
    clearInterval(heartbeat);
    removeHook();
  }
  const built = path.join(stagingDir, 'temporal');
  if (child.exitCode !== 0 || !isExecutable(built)) {
    rmSync(stagingDir, { recursive: true, force: true });
    throw new Error(
      `Building the Temporal CLI failed (go install ${describeExit(child)}). Last lines of ${logFile}:\n` +
        indent(tailFile(logFile, 20)) +
        '\nCheck that the Go module proxy (GOPROXY, default https://proxy.golang.org) is reachable, or install the ' +
        'Temporal CLI yourself and put it on PATH (or set TEMPORAL_CLI_PATH).',
    );
  }
  renameSync(built, target); // atomic: `target` existing means a complete binary
  rmSync(stagingDir, { recursive: true, force: true });
  log(`Built the Temporal CLI in ${formatDuration(Date.now() - started)}: ${target}`);
}

/**
 * A `go install` of the CLI started outside this code (by hand, or by an older version of it) into the same
 * folder: wait for it instead of building a second time. Linux only (reads /proc), best effort.
 */
async function waitForForeignGoInstall(binDir: string, log: Log): Promise<void> {
  const findPid = (): number | undefined => {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return undefined;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (!argv.includes('install') || !argv.some((a) => a.startsWith(TEMPORAL_CLI_PACKAGE))) continue;
        if (path.basename(argv[0] ?? '') !== 'go') continue;
        const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        const gobin = env.find((e) => e.startsWith('GOBIN='))?.slice('GOBIN='.length);
        if (gobin !== undefined && path.resolve(gobin) === path.resolve(binDir)) return Number(entry);
      } catch {
        // process vanished or not readable
      }
    }
    return undefined;
  };
  const pid = findPid();
  if (pid === undefined) return;
  log(`A go install of the Temporal CLI into ${binDir} is already running (pid ${pid}); waiting for it to finish…`);
  const started = Date.now();
  let lastBeat = started;
  while (isPidAlive(pid) && existsSync(`/proc/${pid}`)) {
    await sleep(1000);
    if (Date.now() - lastBeat >= 30_000) {
      lastBeat = Date.now();
      log(`  still waiting for go install (pid ${pid})… (${formatDuration(Date.now() - started)})`);
    }
  }
}

export interface TemporalDevServerOptions {
  /** gRPC frontend port (the address is `127.0.0.1:<port>`). */
  port: number;
  /** Folder for `temporal.db` (the SQLite state store, kept across restarts). */
  dataDir: string;
  logFile: string;
  /** `--dynamic-config-value KEY=VALUE` entries; values are JSON-encoded (strings get quotes). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Extra namespaces to create at launch ("default" always exists). */
  namespaces?: string[];
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

/**
 * Runs `temporal server start-dev` (headless, SQLite in `dataDir`) on `127.0.0.1:<port>` and resolves once its
 * frontend answers a health check and the "default" namespace is usable. The HTTP API and metrics ports are
 * picked free at random, so several dev servers can run side by side.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<RunningServer> {
  const host = '127.0.0.1';
  mkdirSync(opts.dataDir, { recursive: true });
  const pidFile = path.join(opts.dataDir, 'temporal-dev-server.json');
  await stopLeftoverDevServer(pidFile, opts.log);
  await assertPortFree(opts.port, 'Temporal dev server', {
    hint: 'Stop the other process or set TEMPORAL_ADDRESS / TEMPORAL_PORT.',
  });
  const ensureStarted = Date.now();
  const bin = await ensureTemporalCli(opts.log);
  if (Date.now() - ensureStarted > 1000) {
    // It was just built (minutes): check the port again rather than fail with a log tail.
    await assertPortFree(opts.port, 'Temporal dev server', {
      hint: 'Stop the other process or set TEMPORAL_ADDRESS / TEMPORAL_PORT.',
    });
  }
  const [httpPort, metricsPort] = await findFreePorts(2, host, [opts.port]);
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    host,
    '--port',
    String(opts.port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    path.join(opts.dataDir, 'temporal.db'),
    '--log-level',
    opts.logLevel ?? 'warn',
  ];
  for (const ns of opts.namespaces ?? []) args.push('--namespace', ns);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const address = `${host}:${opts.port}`;
  const started = Date.now();
  const child = spawnLogged(bin, args, { logFile: opts.logFile });
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
  } catch (err) {
    await stop();
    throw err;
  }
  opts.log(`Temporal dev server ready on ${address} in ${formatDuration(Date.now() - started)} (log ${opts.logFile})`);
  return { address, stop };
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
