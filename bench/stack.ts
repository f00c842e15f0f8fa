/**
 * The benchmark's stack, started by the local-stack launcher (tools/local-stack.ts) like `npm test`'s: PostgreSQL
 * (a fresh database), a Temporal dev server and an SMTP catcher on free ports with data under `.data/bench/`,
 * unless DATABASE_URL / TEMPORAL_ADDRESS are given; plus the three processes under test, each a child process so the load
 * generator never shares their event loop: the real worker (`src/worker.ts`), the real API
 * (`src/api/server.ts`) and the floor worker (`bench/floor/worker.ts`).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LocalStack } from '../tools/local-stack';
import {
  describeExit,
  formatDuration,
  hasExited,
  killOnExit,
  run,
  spawnLogged,
  stopProcess,
  tailFile,
} from '../tools/procs';

export const root = path.resolve(__dirname, '..');

export type Log = (msg: string) => void;

export interface ExternalServers {
  databaseUrl: string;
  temporalAddress: string;
  smtpUrl: string;
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

/** Start PostgreSQL, Temporal and an SMTP catcher unless given; registers their stop in `stops`. */
export async function startServers(
  dataDir: string,
  stops: (() => Promise<void>)[],
  log: Log,
): Promise<ExternalServers> {
  const stack = await LocalStack.start({
    dataDir,
    log,
    postgres: {
      url: process.env.DATABASE_URL || undefined,
      port: 0,
      database: 'ai_credits_bench',
      fresh: true,
      settings: POSTGRES_SETTINGS,
    },
    temporal: {
      address: process.env.TEMPORAL_ADDRESS || undefined,
      port: 0,
      fresh: true,
      dynamicConfig: TEMPORAL_DYNAMIC_CONFIG,
    },
    smtp: { port: 0 },
  });
  stops.push(() => stack.stop());
  const { postgres, temporal } = stack;
  return {
    databaseUrl: stack.databaseUrl,
    temporalAddress: stack.temporalAddress,
    smtpUrl: stack.smtpUrl!,
    temporalCli: temporal ? (await run(temporal.cli, ['--version'])).stdout.trim() : undefined,
    startedPostgres: postgres !== undefined,
    startedTemporal: temporal !== undefined,
    postgresSettings: postgres ? POSTGRES_SETTINGS : {},
    temporalDynamicConfig: temporal ? TEMPORAL_DYNAMIC_CONFIG : {},
    postmasterPid: postgres?.pid,
    temporalPid: temporal?.pid,
  };
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
  /**
   * Gives up only when the child's log has not grown for this long (default 10 min): bundling the workflows on a
   * busy machine is slow, and the wait says so every 30 s.
   */
  stallMs?: number;
  /** Extra node flags, e.g. `--cpu-prof` (BENCH_PROFILE). */
  nodeArgs?: string[];
  log?: Log;
}): Promise<ChildService> {
  const child = spawnLogged(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script], {
    logFile: opts.logFile,
    env: opts.env,
    cwd: root,
  });
  killOnExit(child);
  const startedAt = statSync(opts.logFile).size;
  const began = Date.now();
  const stallMs = opts.stallMs ?? 600_000;
  let logSize = startedAt;
  let movedAt = began;
  let saidAt = began;
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
    const size = statSync(opts.logFile).size;
    if (size !== logSize) {
      logSize = size;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt > stallMs) {
      await stopProcess(child);
      throw new Error(
        `${opts.name} was not ready after ${formatDuration(Date.now() - began)}, its log silent for ` +
          `${formatDuration(stallMs)}; see ${opts.logFile}`,
      );
    }
    if (opts.log && Date.now() - saidAt >= 30_000) {
      saidAt = Date.now();
      opts.log(`  still waiting for the ${opts.name} (${formatDuration(saidAt - began)}; log: ${opts.logFile})`);
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
