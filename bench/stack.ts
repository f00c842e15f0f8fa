/**
 * The benchmark's stack, started the way `npm test` starts its own (scripts/test.ts): PostgreSQL (a fresh
 * database) and a Temporal dev server on free ports with data under `.data/bench/`, unless DATABASE_URL /
 * TEMPORAL_ADDRESS are given; plus the three processes under test, each a child process so the load
 * generator never shares their event loop: the real worker (`src/worker.ts`), the real API
 * (`src/api/server.ts`) and the floor worker (`bench/floor/worker.ts`).
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { freshDatabase, startPostgres } from '../src/stack/postgres';
import {
  describeExit,
  findFreePorts,
  formatDuration,
  hasExited,
  killOnExit,
  run,
  spawnLogged,
  stopProcess,
  tailFile,
} from '../src/stack/procs';
import { ensureTemporalCli, startTemporalDevServer } from '../src/stack/temporal-cli';

export const root = path.resolve(__dirname, '..');

export type Log = (msg: string) => void;

export interface ExternalServers {
  databaseUrl: string;
  temporalAddress: string;
  /** `temporal --version`, when this run started the dev server. */
  temporalCli?: string;
  /** Which servers this run started itself. */
  startedPostgres: boolean;
  startedTemporal: boolean;
  postgresSettings: Record<string, string>;
  temporalDynamicConfig: Record<string, string | number | boolean>;
  /** Process ids of the servers this run started (for CPU accounting). */
  postmasterPid?: number;
  temporalPid?: number;
}

/** PostgreSQL settings of the bench cluster: durable (fsync and synchronous_commit stay on, as in production). */
export const POSTGRES_SETTINGS: Record<string, string> = { max_connections: '200' };
/**
 * The dev server runs with the server's defaults (a run is told to continue as new at 4 Ki events, 4 MiB or
 * 90 % of the 2,000-Update cap; at most 10 Updates in flight per workflow). For experiments only,
 * BENCH_TEMPORAL_DYNAMIC_CONFIG adds settings, e.g. `system.enableActivityEagerExecution=true` (comma-separated);
 * they are recorded in the results.
 */
export const TEMPORAL_DYNAMIC_CONFIG: Record<string, string | number | boolean> = Object.fromEntries(
  (process.env.BENCH_TEMPORAL_DYNAMIC_CONFIG ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const [key, raw = ''] = kv.split('=');
      const value = raw === 'true' ? true : raw === 'false' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw);
      return [key.trim(), value];
    }),
);

/** Start PostgreSQL and Temporal unless given; registers their stops in `stops` (last in, first out). */
export async function startServers(
  dataDir: string,
  stops: (() => Promise<void>)[],
  log: Log,
): Promise<ExternalServers> {
  mkdirSync(dataDir, { recursive: true });
  const [pgPort, temporalPort] = await findFreePorts(2);

  const postgres = process.env.DATABASE_URL
    ? undefined
    : await startPostgres({
        dataDir: path.join(dataDir, 'pg'),
        port: pgPort,
        log,
        logFile: path.join(dataDir, 'postgres.log'),
        settings: POSTGRES_SETTINGS,
      });
  if (postgres) stops.push(postgres.stop);
  if (!postgres) log('using DATABASE_URL from the environment (a fresh ai_credits_bench database is created on it)');
  const databaseUrl = await freshDatabase(postgres?.adminUrl ?? process.env.DATABASE_URL!, 'ai_credits_bench');

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let temporalCli: string | undefined;
  let temporalPid: number | undefined;
  if (temporalAddress) {
    log(`using TEMPORAL_ADDRESS=${temporalAddress} from the environment`);
  } else {
    rmSync(path.join(dataDir, 'temporal'), { recursive: true, force: true });
    const temporal = await startTemporalDevServer({
      port: temporalPort,
      dataDir: path.join(dataDir, 'temporal'),
      logFile: path.join(dataDir, 'temporal.log'),
      dynamicConfig: TEMPORAL_DYNAMIC_CONFIG,
      log,
    });
    stops.push(temporal.stop);
    temporalAddress = temporal.address;
    temporalPid = readPid(path.join(dataDir, 'temporal', 'temporal-dev-server.json'), (t) => JSON.parse(t).pid);
    const cli = await ensureTemporalCli(log);
    temporalCli = (await run(cli, ['--version'])).stdout.trim();
  }
  return {
    databaseUrl,
    temporalAddress,
    temporalCli,
    startedPostgres: postgres !== undefined,
    startedTemporal: temporalCli !== undefined,
    postgresSettings: postgres ? POSTGRES_SETTINGS : {},
    temporalDynamicConfig: temporalCli ? TEMPORAL_DYNAMIC_CONFIG : {},
    postmasterPid: postgres
      ? readPid(path.join(postgres.dataDir, 'postmaster.pid'), (t) => t.split('\n')[0])
      : undefined,
    temporalPid,
  };
}

function readPid(file: string, parse: (text: string) => unknown): number | undefined {
  try {
    const pid = Number(parse(readFileSync(file, 'utf8')));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface ChildService {
  name: string;
  pid: number;
  logFile: string;
  /** Resident set size now, and its peak (VmHWM), in bytes, from /proc/<pid>/status. */
  memory(): { rss: number; peak: number } | undefined;
  stop(): Promise<void>;
}

/**
 * Runs `node --import tsx <script>` (no tsx wrapper process, so the pid is the service itself) with its output
 * appended to `logFile` (a file descriptor of its own: the load generator never copies its logs), and resolves
 * once `ready()` says so.
 */
export async function startChild(opts: {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  ready: RegExp | (() => Promise<boolean>);
  timeoutMs?: number;
  /** Extra node flags, e.g. `--cpu-prof` (BENCH_PROFILE). */
  nodeArgs?: string[];
}): Promise<ChildService> {
  const child = spawnLogged(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script], {
    logFile: opts.logFile,
    env: opts.env,
    cwd: root,
  });
  killOnExit(child);
  const startedAt = statSync(opts.logFile).size;
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const isReady = async () => {
    if (typeof opts.ready === 'function') return opts.ready().catch(() => false);
    return opts.ready.test(readFileSync(opts.logFile, 'utf8').slice(startedAt));
  };
  while (!(await isReady())) {
    if (hasExited(child)) {
      throw new Error(
        `${opts.name} exited (${describeExit(child)}) before it was ready. Last lines of ${opts.logFile}:\n` +
          tailFile(opts.logFile, 15),
      );
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`${opts.name} was not ready in time; see ${opts.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    memory: () => readMemory(pid),
    stop: () => stopProcess(child, 15_000),
  };
}

function readMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export { formatDuration };
