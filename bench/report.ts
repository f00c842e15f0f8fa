/** Ratios, targets, the table on stdout, and the shape of `bench/results/*.json`. */
import type { LatencySummary } from './load';
import type { PathId } from './paths';

export interface HistoryResult {
  /** Workflows whose histories were fetched (the hot one, or a sample of the 1,000). */
  workflows: number;
  events: number;
  /** Measured operations that went to those workflows. */
  ops: number;
  eventsPerOp: number;
  /** Events per operation by event type. */
  byTypePerOp: Record<string, number>;
  /** Runs the events were spread over (continue-as-new included). */
  runs: number;
}

export interface PathResult extends LatencySummary {
  scenario: string;
  path: PathId | 'H';
  title: string;
  retries: number;
  errorSamples: string[];
  history?: HistoryResult;
  /** CPU seconds used by each process during the measured phase. */
  cpuSeconds: Record<string, number>;
  cpuMsPerOp: Record<string, number>;
  /**
   * Paths A and B: CPU from the start of the measured phase until 1.25 × the ledger backstop delay + 3 s after its
   * end (and quiet), so that the rows the workflows wrote later (entries nobody acknowledged) are paid for; minus
   * each process's idle CPU over the time past the phase.
   */
  cpuSecondsInclDeferred?: Record<string, number>;
  cpuMsPerOpInclDeferred?: Record<string, number>;
}

export interface RenewalResult {
  members: number;
  /** The instant every carried period ended (the billing date). */
  periodEnd: string;
  /** The instant the 1,000 runs became runnable (delayed start), when the clock starts. */
  instant: string;
  newPeriodStart: string;
  firstGrantMs: number;
  halfGrantsMs: number;
  p90GrantsMs: number;
  allGrantsMs: number;
  allExpiriesMs: number;
  /** Sampled members whose live state (query) shows the new period with a fresh allowance. */
  verifiedByQuery: number;
  cpuSeconds: Record<string, number>;
}

export interface Ratio {
  p50: number;
  p90: number;
  p99: number;
  throughput: number;
  historyEvents?: number;
}

export interface Target {
  what: string;
  value: number;
  limit: string;
  met: boolean;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  scale: number;
  machine: Record<string, unknown>;
  setup: Record<string, unknown>;
  method: Record<string, string>;
  scenarios: { id: string; title: string; members: number; callers: number; warmup: number; ops: number }[];
  results: PathResult[];
  probes: PathResult[];
  ratios: {
    /** Path A against C, 1,000 members × 50 callers. */
    consumeP50VsBareUpdate: number;
    consumeP99VsBareUpdate: number;
    throughputVsBareUpdate: number;
    /** History events per consumption (A) against per bare Update (C), one hot member, 50 callers. */
    historyEventsVsBareUpdate: number;
    /** A/C and B/C (and D/C) in every scenario. */
    perScenario: Record<string, Partial<Record<'A' | 'B' | 'D', Ratio>>>;
  };
  targets: Target[];
  memory: { rssBytes: Record<string, Record<string, number>>; peakRssBytes: Record<string, number> };
  /** Absent when skipped (BENCH_RENEWAL=0, experiments only). */
  renewal?: RenewalResult;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

function ratio(x: PathResult | undefined, floor: PathResult | undefined): Ratio | undefined {
  if (!x || !floor) return undefined;
  return {
    p50: r2(x.p50Ms / floor.p50Ms),
    p90: r2(x.p90Ms / floor.p90Ms),
    p99: r2(x.p99Ms / floor.p99Ms),
    throughput: r2(x.throughputPerS / floor.throughputPerS),
    ...(x.history && floor.history ? { historyEvents: r2(x.history.eventsPerOp / floor.history.eventsPerOp) } : {}),
  };
}

/** Ratios and targets from the results. */
export function judge(results: PathResult[]): Pick<BenchResults, 'ratios' | 'targets'> {
  const find = (scenario: string, path: PathId) => results.find((x) => x.scenario === scenario && x.path === path);
  const perScenario: BenchResults['ratios']['perScenario'] = {};
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const floor = find(scenario, 'C');
    perScenario[scenario] = {
      A: ratio(find(scenario, 'A'), floor),
      B: ratio(find(scenario, 'B'), floor),
      D: ratio(find(scenario, 'D'), floor),
    };
  }
  const spread = perScenario['members-1000']?.A;
  const hot = perScenario['hot-50']?.A;
  const ratios = {
    consumeP50VsBareUpdate: spread?.p50 ?? NaN,
    consumeP99VsBareUpdate: spread?.p99 ?? NaN,
    throughputVsBareUpdate: spread?.throughput ?? NaN,
    historyEventsVsBareUpdate: hot?.historyEvents ?? NaN,
    perScenario,
  };
  const targets: Target[] = [
    { what: 'p50 of A vs C, 1,000 members × 50 callers', value: ratios.consumeP50VsBareUpdate, limit: '≤ 1.25' },
    { what: 'p99 of A vs C, 1,000 members × 50 callers', value: ratios.consumeP99VsBareUpdate, limit: '≤ 2' },
    { what: 'throughput of A vs C, 1,000 members × 50 callers', value: ratios.throughputVsBareUpdate, limit: '≥ 0.8' },
    {
      what: 'history events per consumption vs bare Update, hot member × 50',
      value: ratios.historyEventsVsBareUpdate,
      limit: '≤ 1.25',
    },
  ].map((t) => {
    const [op, bound] = t.limit.split(' ');
    const met = op === '≤' ? t.value <= Number(bound) : t.value >= Number(bound);
    return { ...t, met };
  });
  return { ratios, targets };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const padEnd = (s: string | number, n: number) => String(s).padEnd(n);
const mb = (bytes: number) => (Number.isFinite(bytes) ? `${Math.round(bytes / 1024 / 1024)} MB` : 'n/a');

export function printReport(out: BenchResults): void {
  const lines: string[] = [];
  const p = (s = '') => lines.push(s);
  const m = out.machine as { cpuModel: string; cpuCount: number; memoryBytes: number; node: string };
  p();
  p(
    `AI credits benchmark, ${out.startedAt} (${out.durationS} s) on ${m.cpuCount}× ${m.cpuModel}, ${mb(m.memoryBytes)}, node ${m.node}`,
  );
  p(`Latency in ms (closed loop, warm-up excluded), throughput in operations per second.`);
  p(String(out.setup.summary ?? ''));
  for (const s of out.scenarios) {
    p();
    p(
      `${s.title}  (${s.callers} caller${s.callers > 1 ? 's' : ''}, warm-up ${s.warmup}, ${s.ops} measured operations)`,
    );
    p(
      `  ${padEnd('path', 40)}${pad('p50', 8)}${pad('p90', 8)}${pad('p99', 8)}${pad('max', 9)}${pad('ops/s', 9)}` +
        `${pad('events/op', 11)}${pad('retries', 9)}${pad('errors', 8)}`,
    );
    for (const r of [...out.results, ...out.probes].filter((x) => x.scenario === s.id)) {
      p(
        `  ${padEnd(r.title, 40)}${pad(r.p50Ms.toFixed(1), 8)}${pad(r.p90Ms.toFixed(1), 8)}${pad(r.p99Ms.toFixed(1), 8)}` +
          `${pad(r.maxMs.toFixed(0), 9)}${pad(r.throughputPerS.toFixed(0), 9)}` +
          `${pad(r.history ? r.history.eventsPerOp.toFixed(2) : '-', 11)}${pad(r.retries, 9)}${pad(r.errors, 8)}`,
      );
    }
    const rs = out.ratios.perScenario[s.id];
    for (const k of ['A', 'B'] as const) {
      const x = rs?.[k];
      if (!x) continue;
      p(
        `  ${k}/C: p50 ${x.p50.toFixed(2)}×  p90 ${x.p90.toFixed(2)}×  p99 ${x.p99.toFixed(2)}×  ` +
          `throughput ${x.throughput.toFixed(2)}×` +
          (x.historyEvents !== undefined ? `  history events ${x.historyEvents.toFixed(2)}×` : ''),
      );
    }
  }

  p();
  p('History events per operation, by type (fetched histories, continue-as-new included)');
  for (const r of out.results.filter((x) => x.history)) {
    const h = r.history!;
    const parts = Object.entries(h.byTypePerOp).map(([k, v]) => `${k} ${v >= 0.01 ? v.toFixed(2) : v.toFixed(4)}`);
    p(`  ${padEnd(`${r.scenario} ${r.path}`, 16)} ${h.eventsPerOp.toFixed(2)} = ${parts.join(', ')}`);
  }

  p();
  p('CPU milliseconds per operation, by process (measured phase; 2 CPUs give at most 2,000 ms per second)');
  const procs = Object.keys(out.results[0]?.cpuMsPerOp ?? {});
  p(`  ${padEnd('scenario / path', 52)}${procs.map((n) => pad(n, 16)).join('')}${pad('total', 9)}`);
  for (const r of [...out.results, ...out.probes]) {
    const total = Object.values(r.cpuMsPerOp).reduce((a, b) => a + b, 0);
    p(
      `  ${padEnd(`${r.scenario} ${r.title}`, 52)}${procs.map((n) => pad((r.cpuMsPerOp[n] ?? 0).toFixed(2), 16)).join('')}` +
        `${pad(total.toFixed(2), 9)}`,
    );
  }

  p();
  p(
    'CPU milliseconds per operation including the deferred ledger writes (from the phase start until 1.25 × the ' +
      'backstop delay + 3 s after its end and quiet; the idle CPU of that time, sampled after setup, subtracted)',
  );
  p(`  ${padEnd('scenario / path', 52)}${procs.map((n) => pad(n, 16)).join('')}${pad('total', 9)}`);
  for (const r of out.results.filter((x) => x.cpuMsPerOpInclDeferred)) {
    const c = r.cpuMsPerOpInclDeferred!;
    const total = Object.values(c).reduce((a, b) => a + b, 0);
    p(
      `  ${padEnd(`${r.scenario} ${r.title}`, 52)}${procs.map((n) => pad((c[n] ?? 0).toFixed(2), 16)).join('')}` +
        `${pad(total.toFixed(2), 9)}`,
    );
  }

  p();
  p('Process memory (RSS)');
  const names = Object.keys(out.memory.peakRssBytes);
  p(`  ${padEnd('when', 46)}${names.map((n) => pad(n, 14)).join('')}`);
  for (const [when, values] of Object.entries(out.memory.rssBytes)) {
    p(`  ${padEnd(when, 46)}${names.map((n) => pad(mb(values[n]), 14)).join('')}`);
  }
  p(
    `  ${padEnd('peak (VmHWM and 250 ms samples)', 46)}${names.map((n) => pad(mb(out.memory.peakRssBytes[n]), 14)).join('')}`,
  );

  const rn = out.renewal;
  p();
  if (rn) {
    p(
      `Renewal: ${rn.members} members whose periods ended at ${rn.periodEnd}, runnable at one instant: first grant ` +
        `${rn.firstGrantMs} ms, half ${rn.halfGrantsMs} ms, 90 % ${rn.p90GrantsMs} ms, all grants ${rn.allGrantsMs} ms, ` +
        `all expiries ${rn.allExpiriesMs} ms; ${rn.verifiedByQuery} of 20 sampled members show the new period by query.`,
    );
    const cpu = Object.entries(rn.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`);
    p(`  CPU seconds meanwhile: ${cpu.join(', ')}`);
  }

  p();
  p('Targets');
  for (const t of out.targets) {
    p(`  ${t.met ? 'met   ' : 'MISSED'}  ${padEnd(t.what, 66)} ${pad(t.value.toFixed(2), 6)}×  (target ${t.limit})`);
  }
  p();
  console.log(lines.join('\n'));
}
