/**
 * Small process and port utilities used to start the local servers (PostgreSQL, Temporal) for `npm start` and
 * `npm test`. Errors thrown from here carry a message meant to be printed as is (callers print `err.message`).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export type Log = (msg: string) => void;

/** True when nothing listens on `host:port` (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Throws when `port` is taken, e.g. `Port 7233 (Temporal dev server) is already in use. Stop the other process or
 * set TEMPORAL_ADDRESS / TEMPORAL_PORT.`
 */
export async function assertPortFree(
  port: number,
  what: string,
  opts: { hint?: string; host?: string } = {},
): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`Invalid port ${String(port)} for ${what}: expected an integer between 1 and 65535.`);
  }
  if (!(await isPortFree(port, host))) {
    const hint = opts.hint ?? 'Stop the other process or choose another port.';
    throw new Error(`Port ${port} (${what}) is already in use. ${hint}`);
  }
}

/** A port the OS considers free right now (it may be taken by someone else before you bind it). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await findFreePorts(1, host);
  return port;
}

/** `count` distinct free ports (all held open at the same time while picking, so they differ). */
export async function findFreePorts(count: number, host = '127.0.0.1', exclude: number[] = []): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = net.createServer();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host, exclusive: true }, () => {
          const addr = server.address();
          if (addr === null || typeof addr === 'string') reject(new Error('Could not read the address of a socket'));
          else resolve(addr.port);
        });
      });
      if (!exclude.includes(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tryConnect(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitForTcpOptions {
  /** Give up early (with the log tail in the message) when this process exits before the port opens. */
  child?: ChildProcess;
  /** Name of the server for error messages, e.g. "Temporal dev server". */
  what?: string;
  /** Log file whose last lines go into the error message. */
  logFile?: string;
}

/** Resolves once something accepts TCP connections on `host:port`; rejects after `timeoutMs`. */
export async function waitForTcp(
  port: number,
  host = '127.0.0.1',
  timeoutMs = 30_000,
  opts: WaitForTcpOptions = {},
): Promise<void> {
  const what = opts.what ?? 'server';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (opts.child !== undefined && hasExited(opts.child)) {
      throw new Error(
        `The ${what} exited (${describeExit(opts.child)}) before it accepted connections on ${host}:${port}.` +
          logTailMessage(opts.logFile),
      );
    }
    if (await tryConnect(port, host, 1000)) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `The ${what} did not accept connections on ${host}:${port} within ${Math.round(timeoutMs / 1000)} s.` +
          logTailMessage(opts.logFile),
      );
    }
    await sleep(100);
  }
}

const spawnErrors = new WeakMap<ChildProcess, Error>();

export interface SpawnLoggedOptions {
  /** stdout and stderr are appended to this file (created with its folder when missing). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Extra spawn options (e.g. `uid`/`gid`). */
  spawnOptions?: Omit<SpawnOptions, 'stdio' | 'env' | 'cwd'>;
}

/**
 * Starts `cmd args` with stdout and stderr appended to `logFile`. A failure to start (e.g. ENOENT) does not crash
 * the process: it is recorded and reported by `waitForTcp` / `describeExit`.
 */
export function spawnLogged(cmd: string, args: readonly string[], opts: SpawnLoggedOptions): ChildProcess {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} starting: ${[cmd, ...args].map(shellQuote).join(' ')}\n`);
    const child = spawn(cmd, args, {
      ...opts.spawnOptions,
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
    });
    child.on('error', (err) => {
      spawnErrors.set(child, err);
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || spawnErrors.has(child);
}

/** "exit code 1", "signal SIGKILL" or the spawn error. */
export function describeExit(child: ChildProcess): string {
  const err = spawnErrors.get(child);
  if (err !== undefined) return `could not start it: ${err.message}`;
  if (child.signalCode !== null) return `signal ${child.signalCode}`;
  if (child.exitCode !== null) return `exit code ${child.exitCode}`;
  return 'still running';
}

/** Sends SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
  });
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    }),
  ]);
  if (timer !== undefined) clearTimeout(timer);
  if (timedOut && !hasExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

const exitHooks = new Set<() => void>();

/**
 * Runs `hook` (synchronously) when this Node process exits, e.g. to kill servers a crashing test runner would leave
 * behind. One shared 'exit' listener, so many hooks don't trigger MaxListenersExceededWarning. Returns a remover.
 */
export function onProcessExit(hook: () => void): () => void {
  if (exitHooks.size === 0) process.once('exit', runExitHooks);
  exitHooks.add(hook);
  return () => {
    exitHooks.delete(hook);
    if (exitHooks.size === 0) process.removeListener('exit', runExitHooks);
  };
}

function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    try {
      hook();
    } catch {
      // best effort while exiting
    }
  }
  exitHooks.clear();
}

/**
 * Kills `child` with SIGKILL if this Node process exits while it still runs, so no server is left behind holding
 * a port. The hook is removed when the child exits; the returned function removes it earlier.
 */
export function killOnExit(child: ChildProcess): () => void {
  const remove = onProcessExit(() => {
    if (!hasExited(child)) child.kill('SIGKILL');
  });
  child.once('exit', remove);
  return remove;
}

/** Last `lines` lines of a text file ('' when it cannot be read). */
export function tailFile(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function logTailMessage(logFile: string | undefined): string {
  if (logFile === undefined) return '';
  const tail = tailFile(logFile, 15);
  return tail === '' ? ` See ${logFile}.` : ` Last lines of ${logFile}:\n${indent(tail)}`;
}

export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Absolute path of an executable found on PATH, or undefined. */
export function which(cmd: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = path.join(dir, cmd);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output (never rejects for a non-zero exit; check `code`). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT' ? new Error(`Cannot run ${cmd}: command not found (${err.message}).`) : (err as Error),
      );
    });
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like `run` but throws a readable error (command, exit status, output tail) unless it exits with 0. */
export async function runChecked(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string; what?: string } = {},
): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    const output = (res.stderr.trim() + '\n' + res.stdout.trim()).trim().split('\n').slice(-15).join('\n');
    const status = res.signal !== null ? `was killed by ${res.signal}` : `exited with code ${String(res.code)}`;
    throw new Error(
      `${opts.what ?? 'Command'} failed: \`${[cmd, ...args].map(shellQuote).join(' ')}\` ${status}.` +
        (output === '' ? '' : `\n${indent(output)}`),
    );
  }
  return res;
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Cleanups of a launcher, run in reverse order of registration. */
export interface StopList {
  stops: (() => Promise<void>)[];
  /** Runs every registered stop (errors are printed, not thrown) and empties the list. */
  stopAll(): Promise<void>;
}

/** A stop list that Ctrl-C / SIGTERM also runs (then exits 130), as `npm test` and `npm run bench` need. */
export function stopListWithSignals(what: string, log: Log): StopList {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(String(err)));
    stops.length = 0;
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: Ctrl-C arrives more than once (terminal, npm, tsx), and tsx exits at once on a signal
    // nobody listens to, which would cut the cleanup short.
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping the ${what}…`);
      void stopAll().then(() => process.exit(130));
    });
  }
  return { stops, stopAll };
}
