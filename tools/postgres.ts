/**
 * A private PostgreSQL cluster for the local stack (tools/local-stack.ts), run from the installed server binaries
 * (`/usr/lib/postgresql/<version>/bin`, installed with apt-get on first run when missing and we are root).
 *
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user. Its data directory is
 * the requested one when that user can reach it, else a stable fallback under /var/lib/ai-credits-pg/ (e.g. when
 * the repository lives in a folder only root can traverse). The server only listens on 127.0.0.1 (no Unix socket)
 * with `trust` authentication, and writes its log to `logFile` through an inherited file descriptor (so the log
 * file may live where the postgres user has no access).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import {
  assertPortFree,
  formatDuration,
  indent,
  isExecutable,
  isPidAlive,
  onProcessExit,
  run,
  runChecked,
  shellQuote,
  tailFile,
  which,
  type Log,
  type RunResult,
} from './procs';

export interface PostgresOptions {
  /** Requested data directory, e.g. `<repo>/.data/pg` (a fallback is used when the postgres user can't reach it). */
  dataDir: string;
  port: number;
  log: Log;
  /** Server log (appended). */
  logFile: string;
  /** Extra `-c name=value` server settings, e.g. `{ fsync: 'off', synchronous_commit: 'off' }` for tests. */
  settings?: Record<string, string>;
  /** Database to create when missing (default `ai_credits`). */
  database?: string;
  /** Appended to the "port in use" error (default: use DATABASE_URL or stop the other process). */
  portHint?: string;
}

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/ai_credits` */
  databaseUrl: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  adminUrl: string;
  /** The data directory actually used (the requested one or the fallback). */
  dataDir: string;
  port: number;
  /** The postmaster's process id. */
  pid?: number;
  /**
   * `pg_ctl stop -m fast`; resolves once the server is down (a no-op when it already is). `immediate` aborts
   * without a checkpoint, like a crash (the next start replays the WAL): the fault-injection suite uses it.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

const FALLBACK_BASE = '/var/lib/ai-credits-pg';
const OWNER_FILE = 'ai-credits-owner.json';

interface PgUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface PgContext {
  bin: string;
  /** Set when we are root: commands run as this user. */
  user?: PgUser;
  log: Log;
}

function versionOf(dir: string): number {
  const m = /(\d+)(?:\.(\d+))?$/.exec(dir);
  return m ? Number(m[1]) + Number(m[2] ?? 0) / 1000 : 0;
}

/** `/usr/lib/postgresql/<v>/bin` folders that hold pg_ctl, newest first. */
function installedPgBins(): string[] {
  const base = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = readdirSync(base);
  } catch {
    return [];
  }
  return versions
    .filter((v) => isExecutable(path.join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => versionOf(b) - versionOf(a))
    .map((v) => path.join(base, v, 'bin'));
}

function findPgBin(wantedMajor: string | undefined): string | undefined {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(path.join(fromEnv, 'pg_ctl'))) {
      throw new Error(`PG_BIN=${fromEnv} does not contain an executable pg_ctl. Fix the path or unset PG_BIN.`);
    }
    return fromEnv;
  }
  const bins = installedPgBins();
  if (wantedMajor !== undefined) {
    const match = bins.find((b) => path.basename(path.dirname(b)) === wantedMajor);
    if (match !== undefined) return match;
  }
  if (bins.length > 0) return bins[0];
  const onPath = which('pg_ctl');
  return onPath === undefined ? undefined : path.dirname(onPath);
}

async function installPostgresWithApt(log: Log): Promise<void> {
  log('PostgreSQL server binaries not found; installing them with apt-get (first run only, about a minute)…');
  const started = Date.now();
  // Without this, the Debian package creates and starts a "main" cluster on port 5432 that we don't want.
  const conf = '/etc/postgresql-common/createcluster.conf';
  if (!existsSync(conf)) {
    mkdirSync(path.dirname(conf), { recursive: true });
    writeFileSync(conf, 'create_main_cluster = false\n');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runChecked('apt-get', ['update'], { env, what: 'apt-get update', timeoutMs: 10 * 60_000 });
  await runChecked('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
    env,
    what: 'apt-get install postgresql',
    timeoutMs: 15 * 60_000,
  });
  log(`Installed PostgreSQL in ${formatDuration(Date.now() - started)}.`);
}

async function lookupUser(name: string): Promise<PgUser | undefined> {
  let line: string | undefined;
  try {
    const res = await run('getent', ['passwd', name]);
    if (res.code === 0) line = res.stdout.trim().split('\n')[0];
  } catch {
    line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
  }
  if (line === undefined || line === '') return undefined;
  const f = line.split(':');
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' };
}

async function ensurePostgresUser(log: Log): Promise<PgUser> {
  let user = await lookupUser('postgres');
  if (user === undefined) {
    log('Creating the system user "postgres" (PostgreSQL refuses to run as root)…');
    await runChecked(
      'useradd',
      ['--system', '--user-group', '--home-dir', '/var/lib/postgresql', '--shell', '/bin/sh', 'postgres'],
      { what: 'Creating the postgres user' },
    );
    user = await lookupUser('postgres');
    if (user === undefined) throw new Error('Created the user "postgres" but cannot look it up (getent passwd).');
  }
  return user;
}

/** Runs a PostgreSQL program (as the postgres user when we are root), cwd `/`. */
function pgRun(ctx: PgContext, prog: string, args: string[], opts: { logFd?: number } = {}): Promise<RunResult> {
  const cmd = path.join(ctx.bin, prog);
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  delete env.PGDATA;
  delete env.PGPORT;
  delete env.PGHOST;
  if (ctx.user !== undefined) {
    env.HOME = ctx.user.home;
    env.USER = ctx.user.name;
    env.LOGNAME = ctx.user.name;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: '/',
      env,
      uid: ctx.user?.uid,
      gid: ctx.user?.gid,
      stdio: ['ignore', opts.logFd ?? 'pipe', opts.logFd ?? 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (err) => reject(new Error(`Cannot run ${cmd}: ${err.message}`)));
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Whether the postgres user can create files in and traverse `dir` (all its ancestors included). */
async function userCanUse(ctx: Pick<PgContext, 'user'>, dir: string): Promise<boolean> {
  if (ctx.user === undefined) return true;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'test -d "$1" && test -w "$1" && test -x "$1" && test -r "$1"', 'sh', dir], {
      cwd: '/',
      uid: ctx.user?.uid,
      gid: ctx.user?.gid,
      stdio: 'ignore',
    });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0));
  });
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

function notADataDir(dir: string): Error {
  return new Error(
    `${dir} is not empty but is not a PostgreSQL data directory (no PG_VERSION file). Remove it or choose another ` +
      'data directory.',
  );
}

/** Creates `dir` (0700) owned by the postgres user when we are root. */
function prepareDir(ctx: Pick<PgContext, 'user'>, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (ctx.user !== undefined && !existsSync(path.join(dir, 'PG_VERSION'))) {
    chownSync(dir, ctx.user.uid, ctx.user.gid);
  }
  chmodSync(dir, 0o700);
}

/** The data directory to use: the requested one, or (root only) a fallback the postgres user can reach. */
async function chooseDataDir(ctx: Pick<PgContext, 'user' | 'log'>, requested: string): Promise<string> {
  const fallback = path.join(FALLBACK_BASE, createHash('sha1').update(requested).digest('hex').slice(0, 12));
  if (ctx.user === undefined) {
    prepareDir(ctx, requested);
    return requested;
  }
  // A cluster created in the fallback by an earlier run stays there, so data is never silently "lost".
  if (existsSync(path.join(fallback, 'PG_VERSION'))) {
    ctx.log(`PostgreSQL data directory: ${fallback} (fallback for ${requested}, created by an earlier run)`);
    return fallback;
  }
  if (!existsSync(path.join(requested, 'PG_VERSION')) && !isEmptyDir(requested)) {
    throw notADataDir(requested);
  }
  prepareDir(ctx, requested);
  if (await userCanUse(ctx, requested)) return requested;
  mkdirSync(FALLBACK_BASE, { recursive: true, mode: 0o755 });
  chmodSync(FALLBACK_BASE, 0o755);
  prepareDir(ctx, fallback);
  if (!(await userCanUse(ctx, fallback))) {
    throw new Error(
      `The postgres user cannot use ${requested} nor the fallback ${fallback}. Make one of them reachable ` +
        '(every parent folder needs o+x) or set DATABASE_URL to use an existing PostgreSQL.',
    );
  }
  ctx.log(`PostgreSQL data directory: ${fallback} (the postgres user cannot reach ${requested})`);
  return fallback;
}

interface PostmasterPid {
  pid: number;
  port: number;
}

function readPostmasterPid(dataDir: string): PostmasterPid | undefined {
  try {
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return undefined;
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    return isPidAlive(pid); // no /proc (macOS): trust the pid check
  }
}

interface Owner {
  pid: number;
  port: number;
  since: string;
}

function readOwner(dataDir: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dataDir, OWNER_FILE), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

/**
 * A postmaster still running on `dataDir`: when the process that started it is gone (crashed / killed run), stop
 * it; when that process is alive (another run uses this cluster right now), refuse. Removes stale pid files.
 */
async function handleLeftoverServer(ctx: PgContext, dataDir: string): Promise<void> {
  const pm = readPostmasterPid(dataDir);
  if (pm === undefined) return;
  if (!Number.isInteger(pm.pid) || pm.pid <= 0 || !isPostgresProcess(pm.pid)) {
    rmSync(path.join(dataDir, 'postmaster.pid'), { force: true }); // stale: server crashed or machine rebooted
    return;
  }
  const owner = readOwner(dataDir);
  if (owner !== undefined && owner.pid !== process.pid && isPidAlive(owner.pid)) {
    throw new Error(
      `PostgreSQL on data directory ${dataDir} is in use by another running process (pid ${owner.pid}, ` +
        `port ${owner.port}). Stop that process first, or use another data directory. (If no such run is active, ` +
        `stop the server with \`kill ${pm.pid}\` and retry.)`,
    );
  }
  ctx.log(`Stopping a PostgreSQL server left over from a previous run (pid ${pm.pid}, port ${pm.port})…`);
  const res = await pgRun(ctx, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']);
  if (res.code !== 0 && isPidAlive(pm.pid)) {
    throw new Error(
      `Could not stop the leftover PostgreSQL server (pid ${pm.pid}) on ${dataDir}:\n` +
        indent((res.stderr + res.stdout).trim()) +
        `\nStop it by hand (kill ${pm.pid}) and retry.`,
    );
  }
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount !== null && found.rowCount > 0) return;
    try {
      await client.query(`create database "${database.replace(/"/g, '""')}"`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: created concurrently
    }
  } finally {
    await client.end();
  }
}

/**
 * Starts (initializing on first use) a PostgreSQL cluster on 127.0.0.1:`port` and creates the `ai_credits`
 * database when missing.
 */
export async function startPostgres(opts: PostgresOptions): Promise<RunningPostgres> {
  const log = opts.log;
  const requested = path.resolve(opts.dataDir);
  const database = opts.database ?? 'ai_credits';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  if (findPgBin(undefined) === undefined) {
    if (!isRoot || which('apt-get') === undefined) {
      throw new Error(
        'PostgreSQL server binaries (pg_ctl, initdb) were not found in /usr/lib/postgresql/*/bin nor on PATH. ' +
          'Install PostgreSQL (e.g. `sudo apt-get install -y postgresql`), set PG_BIN to the folder holding ' +
          'pg_ctl, or set DATABASE_URL to use an existing database.',
      );
    }
    await installPostgresWithApt(log);
  }
  const user = isRoot ? await ensurePostgresUser(log) : undefined;
  const dataDir = await chooseDataDir({ user, log }, requested);
  const existingMajor = (() => {
    try {
      return readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
    } catch {
      return undefined;
    }
  })();
  const bin = findPgBin(existingMajor);
  if (bin === undefined) {
    throw new Error('apt-get installed postgresql but no pg_ctl was found under /usr/lib/postgresql/*/bin.');
  }
  const ctx: PgContext = { bin, log, user };

  await handleLeftoverServer(ctx, dataDir);
  await assertPortFree(opts.port, 'PostgreSQL', {
    hint: opts.portHint ?? 'Stop the other process, choose another port, or set DATABASE_URL to use that server.',
  });

  const pgVersionFile = path.join(dataDir, 'PG_VERSION');
  if (existsSync(pgVersionFile)) {
    const dataMajor = readFileSync(pgVersionFile, 'utf8').trim();
    const binMajor = path.basename(path.dirname(bin));
    if (/^\d+$/.test(binMajor) && binMajor !== dataMajor) {
      throw new Error(
        `The PostgreSQL data directory ${dataDir} was created by PostgreSQL ${dataMajor}, but only version ` +
          `${binMajor} is installed. Install PostgreSQL ${dataMajor} (apt-get install postgresql-${dataMajor}) or ` +
          `delete ${dataDir} to start with an empty database.`,
      );
    }
  } else {
    if (!isEmptyDir(dataDir)) throw notADataDir(dataDir);
    log(`Initializing a PostgreSQL cluster in ${dataDir}…`);
    const initArgs = ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--encoding', 'UTF8', '--no-locale'];
    if (opts.settings?.fsync === 'off') initArgs.push('--no-sync');
    const res = await pgRun(ctx, 'initdb', initArgs);
    if (res.code !== 0) {
      throw new Error(
        `initdb failed for ${dataDir}:\n${indent((res.stderr + res.stdout).trim().split('\n').slice(-15).join('\n'))}` +
          `\nFix the cause above, then delete ${dataDir} and retry.`,
      );
    }
  }

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(opts.port),
    unix_socket_directories: '',
    ...opts.settings,
  };
  const serverOpts = Object.entries(settings)
    .map(([k, v]) => `-c ${shellQuote(`${k}=${v}`)}`)
    .join(' ');
  // pg_ctl passes -o through /bin/sh, hence the quoting; `unix_socket_directories=` (empty) disables the socket.

  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  let res: RunResult;
  try {
    writeSync(fd, `\n--- ${new Date().toISOString()} starting PostgreSQL on 127.0.0.1:${opts.port}, data ${dataDir}\n`);
    res = await pgRun(ctx, 'pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-o', serverOpts], { logFd: fd });
  } finally {
    closeSync(fd);
  }
  if (res.code !== 0) {
    throw new Error(
      `PostgreSQL did not start (pg_ctl start exited with code ${String(res.code)}). Last lines of ` +
        `${opts.logFile}:\n${indent(tailFile(opts.logFile, 15))}`,
    );
  }
  const owner: Owner = { pid: process.pid, port: opts.port, since: new Date().toISOString() };
  writeFileSync(path.join(dataDir, OWNER_FILE), JSON.stringify(owner));

  const pm = readPostmasterPid(dataDir);
  // If this process dies without calling stop() (e.g. a crashing test runner), shut the server down with it.
  const exitHook = (): void => {
    if (pm !== undefined && isPostgresProcess(pm.pid)) {
      try {
        process.kill(pm.pid, 'SIGINT'); // "fast" shutdown
      } catch {
        // already gone
      }
    }
  };
  const removeExitHook = onProcessExit(exitHook);

  let stopped = false;
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    if (stopped) return;
    stopped = true;
    removeExitHook();
    const r = await pgRun(ctx, 'pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
    if (r.code !== 0 && readPostmasterPid(dataDir) !== undefined) {
      throw new Error(`pg_ctl stop failed for ${dataDir}:\n${indent((r.stderr + r.stdout).trim())}`);
    }
    rmSync(path.join(dataDir, OWNER_FILE), { force: true });
  };

  const adminUrl = `postgres://postgres@127.0.0.1:${opts.port}/postgres`;
  const databaseUrl = `postgres://postgres@127.0.0.1:${opts.port}/${encodeURIComponent(database)}`;
  try {
    await createDatabaseIfMissing(adminUrl, database);
  } catch (err) {
    await stop().catch(() => undefined);
    throw new Error(`PostgreSQL started but creating database "${database}" failed: ${(err as Error).message}`);
  }
  return { databaseUrl, adminUrl, dataDir, port: opts.port, pid: pm?.pid, stop };
}

/**
 * Drop and create database `name` on the server of `url` and return its URL, so a run starts from an empty
 * schema (`npm test`, the fault suite and the benchmark each use their own).
 */
export async function freshDatabase(url: string, name: string): Promise<string> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}
