/** The load generator: closed-loop callers, latency percentiles, and CPU accounting of the processes involved. */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface PhaseResult {
  ops: number;
  errors: number;
  /** First few error messages, for the report. */
  errorSamples: string[];
  wallMs: number;
  /** Sorted ascending, milliseconds. */
  latencies: Float64Array;
}

/**
 * `callers` concurrent loops share `total` operations (operation i is `op(i)`); each loop starts its next
 * operation as soon as the previous one answered. Latency is measured around each call, wall time around all.
 */
export async function closedLoop(
  callers: number,
  total: number,
  op: (i: number) => Promise<void>,
  offset = 0,
): Promise<PhaseResult> {
  const latencies = new Float64Array(total);
  let next = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const started = performance.now();
  const loop = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      try {
        await op(offset + i);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5)
          errorSamples.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(callers, total) }, loop));
  const wallMs = performance.now() - started;
  latencies.sort();
  return { ops: total, errors, errorSamples, wallMs, latencies };
}

/**
 * Like `closedLoop`, but for a duration instead of a number of operations (a sustained run): operations are
 * numbered from `offset` on, and `onProgress` is called about every `progressMs` with the count so far.
 */
export async function closedLoopFor(
  callers: number,
  durationMs: number,
  op: (i: number) => Promise<void>,
  opts: { offset?: number; progressMs?: number; onProgress?: (done: number, errors: number) => void } = {},
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const errorSamples: string[] = [];
  const started = performance.now();
  const end = started + durationMs;
  const ticker = opts.onProgress
    ? setInterval(() => opts.onProgress!(latencies.length, errors), opts.progressMs ?? 30_000)
    : undefined;
  const loop = async () => {
    while (performance.now() < end) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op((opts.offset ?? 0) + i);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5)
          errorSamples.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
      latencies.push(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: callers }, loop));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const wallMs = performance.now() - started;
  const sorted = Float64Array.from(latencies).sort();
  return { ops: sorted.length, errors, errorSamples, wallMs, latencies: sorted };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface LatencySummary {
  ops: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  throughputPerS: number;
  wallMs: number;
}

export function summarize(r: PhaseResult): LatencySummary {
  let sum = 0;
  for (const v of r.latencies) sum += v;
  return {
    ops: r.ops,
    errors: r.errors,
    p50Ms: round(percentile(r.latencies, 50)),
    p90Ms: round(percentile(r.latencies, 90)),
    p99Ms: round(percentile(r.latencies, 99)),
    maxMs: round(r.latencies[r.latencies.length - 1] ?? NaN),
    meanMs: round(sum / Math.max(1, r.latencies.length)),
    throughputPerS: round((r.ops / r.wallMs) * 1000, 1),
    wallMs: Math.round(r.wallMs),
  };
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

// ---- CPU accounting from /proc (Linux) ----

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU seconds of one process (and, with `reapedChildren`, of its children it has waited for). */
function processCpuSeconds(pid: number, reapedChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    let ticks = Number(f[11]) + Number(f[12]);
    if (reapedChildren) ticks += Number(f[13]) + Number(f[14]);
    return ticks / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** A PostgreSQL server: the postmaster, every backend it runs, and the backends it has reaped. */
function processTreeCpuSeconds(parentPid: number): number {
  let total = processCpuSeconds(parentPid, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid) total += processCpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

export interface CpuSource {
  name: string;
  pid: number;
  tree?: boolean;
}

/** Busy CPU seconds of the whole machine (all CPUs), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds used by each source since `start()`; this process is always included as `load generator`, and
 * `other processes` is what the rest of the machine used meanwhile (anything else running skews the numbers).
 */
export class CpuMeter {
  private base = new Map<string, number>();
  constructor(private readonly sources: CpuSource[]) {}

  private read(): Map<string, number> {
    const m = new Map<string, number>();
    for (const s of this.sources) m.set(s.name, s.tree ? processTreeCpuSeconds(s.pid) : processCpuSeconds(s.pid));
    const self = process.cpuUsage();
    m.set('load generator', (self.user + self.system) / 1e6);
    let ours = 0;
    for (const v of m.values()) ours += v;
    m.set('other processes', machineBusySeconds() - ours);
    return m;
  }

  start(): void {
    this.base = this.read();
  }

  /** CPU seconds per source since start(). */
  stop(): Record<string, number> {
    const now = this.read();
    const out: Record<string, number> = {};
    for (const [name, v] of now) out[name] = round(v - (this.base.get(name) ?? 0), 2);
    return out;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; the results in the items' order. */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
