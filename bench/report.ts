/** Ratios, targets, the table on stdout, and the shape of `bench/results/*.json`. */
import type { LatencySummary } from './load';
import type { PathId } from './paths';

export interface HistoryResult {
  /** Workflows whose histories were fetched (the hot one, or a sample of the 1,000). */
  workflows: number;
  events: number;
  /** Measured operations that went to those workflows' members. */
  ops: number;
  eventsPerOp: number;
  /** Temporal actions: Updates accepted + activities scheduled + timers started. */
  actions: number;
  actionsPerOp: number;
  /** Events per operation by event type. */
  byTypePerOp: Record<string, number>;
  /** Runs the events were spread over (continue-as-new included). */
  runs: number;
}

export interface PathResult extends LatencySummary {
  scenario: string;
  path: PathId | 'H' | 'AB';
  title: string;
  retries: number;
  errorSamples: string[];
  /** The warm-up, timed too (for A and B with 1,000 members: each member's first consumption, a lease request). */
  warmup?: LatencySummary;
  /** A and B: measured consumptions the workflow decided (their ledger row carries no lease id). */
  toWorkflow?: number;
  /** A and B: leases the workflows handed out during the measured phase. */
  leasesGranted?: number;
  history?: HistoryResult;
  /** CPU seconds used by each process during the measured phase. */
  cpuSeconds: Record<string, number>;
  cpuMsPerOp: Record<string, number>;
}

export interface TeamUsageResult {
  teamId: string;
  members: number;
  /** Members of the team with a usage row this period (all of them: every one has its grant). */
  membersWithUsage: number;
  pageSize: number;
  /** 100-row pages, walking the team with nextCursor again and again. */
  pages: LatencySummary;
  /** `?q=` searches: an exact user id (1 row), a user id prefix (10 rows), the email domain (a 100-row page). */
  search: LatencySummary;
  /** CPU seconds by process meanwhile, and the CPUs that processes outside the bench used. */
  cpuSeconds?: Record<string, number>;
  otherProcessesCpus?: number;
  loadAverage1m?: number;
}

export interface SustainedResult {
  teamId: string;
  members: number;
  callers: number;
  /** How long the load ran (longer than the lease TTL, so that every member's first lease is renewed). */
  loadS: number;
  leaseTtlS: number;
  load: LatencySummary;
  errorSamples: string[];
  consumptionsPerMemberPerS: number;
  /** Consumptions the workflow decided (no lease covered them: each member's first, and each renewal). */
  toWorkflow: number;
  leasesGranted: number;
  /**
   * Leases closed before their expiry: given back by the API with a renewal, or taken back by the workflow for a
   * decision (e.g. a lease granted to an Update whose caller had given up waiting).
   */
  leasesReturned: number;
  /** Leases the workflow's timer settled at their expiry (the API holds them until then; after the load, all). */
  leasesExpired: number;
  /**
   * Leases still `active` in PostgreSQL after their expiry: closed by nobody, because their workflow no longer
   * knew them (it must be 0; unspendable after expiry, but what was spent from them is missing from the workflow).
   */
  leasesLeftActive: number;
  /** From the end of the load until every lease was settled and the histories were quiet. */
  waitAfterLoadS: number;
  history: {
    workflows: number;
    runs: number;
    events: number;
    /** Events by type, all runs since the marker. */
    byType: Record<string, number>;
    updates: number;
    activities: number;
    timers: number;
    actions: number;
  };
  temporalActionsPerConsumption: number;
  /** CPU seconds by process: during the load, and afterwards until all leases were settled. */
  cpuSecondsLoad: Record<string, number>;
  cpuSecondsAfter: Record<string, number>;
  cpuMsPerConsumption: Record<string, number>;
  /** The usage route of the 1,000-member team while this load ran (information, not a target). */
  teamUsageUnderLoad?: TeamUsageResult;
}

export interface RenewalResult {
  members: number;
  /** The instant every carried period ended (the billing date). */
  periodEnd: string;
  /** The instant the 1,000 runs became runnable (delayed start), when the clock starts. */
  instant: string;
  newPeriodStart: string;
  /** Starts that reached the server after the instant (the machine was slower than planned): an upper bound then. */
  lateStarts: number;
  firstGrantMs: number;
  halfGrantsMs: number;
  p90GrantsMs: number;
  allGrantsMs: number;
  allExpiriesMs: number;
  /** Sampled members whose live state (query) shows the new period with a fresh allowance. */
  verifiedByQuery: number;
  cpuSeconds: Record<string, number>;
}

/** A path against the peer transaction (D) of the same scenario. */
export interface Ratio {
  p50: number;
  p90: number;
  p99: number;
  throughput: number;
}

export interface Target {
  what: string;
  value: number;
  unit: '×' | 'ms' | '';
  limit: string;
  met: boolean;
}

export interface BenchResults {
  version: 2;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  scale: number;
  machine: Record<string, unknown>;
  setup: Record<string, unknown>;
  method: Record<string, string>;
  scenarios: {
    id: string;
    title: string;
    members: number;
    callers: number;
    warmup: number;
    ops: number;
    floorOps: number;
  }[];
  results: PathResult[];
  probes: PathResult[];
  ratios: {
    /** Path A against D, 1,000 members × 50 callers. */
    consumeP50VsPgTransaction: number;
    consumeP99VsPgTransaction: number;
    throughputVsPgTransaction: number;
    /** A/D (and B/D, C/D) in every scenario. */
    perScenario: Record<string, Partial<Record<'A' | 'B' | 'C', Ratio>>>;
  };
  /** Updates + activities + timers per consumption over the sustained run (renewals and expiries included). */
  temporalActionsPerConsumption: number | null;
  /** The usage route of a 1,000-member team, worst p99 of the page walk and the searches, no bench load. */
  teamUsageP99Ms: number | null;
  teamUsage?: TeamUsageResult;
  sustained?: SustainedResult;
  /** One member served by two lease holders (A and B alternating): what a second API instance changes. */
  twoHolders?: PathResult;
  /** The reconciliation check on the members the bench consumed on (after everything settled). */
  reconciliation: { members: number; withDifferences: number; differences: string[] };
  targets: Target[];
  /** Where the time and the actions go (printed with the targets; bench/README.md says what would close a miss). */
  breakdown: string[];
  memory: { rssBytes: Record<string, Record<string, number>>; peakRssBytes: Record<string, number> };
  /** Absent when skipped (BENCH_RENEWAL=0, experiments only). */
  renewal?: RenewalResult;
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const sumOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function ratio(x: PathResult | undefined, peer: PathResult | undefined): Ratio | undefined {
  if (!x || !peer) return undefined;
  return {
    p50: r2(x.p50Ms / peer.p50Ms),
    p90: r2(x.p90Ms / peer.p90Ms),
    p99: r2(x.p99Ms / peer.p99Ms),
    throughput: r2(x.throughputPerS / peer.throughputPerS),
  };
}

/** Ratios, targets and the breakdown from the results. */
export function judge(
  results: PathResult[],
  probes: PathResult[],
  sustained: SustainedResult | undefined,
  teamUsage: TeamUsageResult | undefined,
): Pick<BenchResults, 'ratios' | 'targets' | 'breakdown' | 'temporalActionsPerConsumption' | 'teamUsageP99Ms'> {
  const find = (scenario: string, path: PathId) => results.find((x) => x.scenario === scenario && x.path === path);
  const perScenario: BenchResults['ratios']['perScenario'] = {};
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const peer = find(scenario, 'D');
    perScenario[scenario] = {
      A: ratio(find(scenario, 'A'), peer),
      B: ratio(find(scenario, 'B'), peer),
      C: ratio(find(scenario, 'C'), peer),
    };
  }
  const spread = perScenario['members-1000']?.A;
  const ratios = {
    consumeP50VsPgTransaction: spread?.p50 ?? NaN,
    consumeP99VsPgTransaction: spread?.p99 ?? NaN,
    throughputVsPgTransaction: spread?.throughput ?? NaN,
    perScenario,
  };
  const temporalActionsPerConsumption = sustained?.temporalActionsPerConsumption ?? null;
  const teamUsageP99Ms = teamUsage ? Math.max(teamUsage.pages.p99Ms, teamUsage.search.p99Ms) : null;
  const targets: Target[] = (
    [
      {
        what: 'p50 of A vs D, 1,000 members × 50 callers',
        value: ratios.consumeP50VsPgTransaction,
        unit: '×',
        limit: '≤ 2',
      },
      {
        what: 'p99 of A vs D, 1,000 members × 50 callers',
        value: ratios.consumeP99VsPgTransaction,
        unit: '×',
        limit: '≤ 3',
      },
      {
        what: 'throughput of A vs D, 1,000 members × 50 callers',
        value: ratios.throughputVsPgTransaction,
        unit: '×',
        limit: '≥ 0.5',
      },
      {
        what: 'Temporal actions per consumption, sustained run',
        value: temporalActionsPerConsumption ?? NaN,
        unit: '',
        limit: '≤ 0.05',
      },
      {
        what: 'team usage p99, 1,000 members (pages and searches)',
        value: teamUsageP99Ms ?? NaN,
        unit: 'ms',
        limit: '≤ 50',
      },
    ] as Omit<Target, 'met'>[]
  ).map((t) => {
    const [op, bound] = t.limit.split(' ');
    const met = op === '≤' ? t.value <= Number(bound) : t.value >= Number(bound);
    return { ...t, met };
  });
  return {
    ratios,
    targets,
    breakdown: breakdown(results, probes, sustained, teamUsage),
    temporalActionsPerConsumption,
    teamUsageP99Ms,
  };
}

const cpuLine = (cpu: Record<string, number>) =>
  `${sumOf(cpu).toFixed(2)} ms (${Object.entries(cpu)
    .filter(([, v]) => Math.abs(v) >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ')})`;

/** Where the time and the actions go, as sentences: CPU per consumption, the workflow's share, the leases. */
function breakdown(
  results: PathResult[],
  probes: PathResult[],
  sustained: SustainedResult | undefined,
  teamUsage: TeamUsageResult | undefined,
): string[] {
  const out: string[] = [];
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const at = (p: PathId) => results.find((x) => x.scenario === scenario && x.path === p);
    const [a, b, d] = [at('A'), at('B'), at('D')];
    if (!a || !d) continue;
    const h = probes.find((x) => x.scenario === scenario);
    out.push(
      `${scenario}: A p50 ${a.p50Ms} ms vs D ${d.p50Ms} ms` +
        (b ? `; B (no HTTP) ${b.p50Ms} ms` : '') +
        (h ? `; HTTP + auth alone (probe H) ${h.p50Ms} ms` : '') +
        `. CPU per consumption: A ${cpuLine(a.cpuMsPerOp)}; D ${cpuLine(d.cpuMsPerOp)}` +
        (b ? `; B ${cpuLine(b.cpuMsPerOp)}` : '') +
        `. To the workflow: A ${a.toWorkflow ?? '?'} of ${a.ops}` +
        (b ? `, B ${b.toWorkflow ?? '?'} of ${b.ops}` : '') +
        `; leases granted in the phase: A ${a.leasesGranted ?? '?'}` +
        (b ? `, B ${b.leasesGranted ?? '?'}` : '') +
        '.',
    );
  }
  if (sustained) {
    const s = sustained;
    out.push(
      `sustained: ${s.load.ops} consumptions over ${s.members} members in ${s.loadS} s ` +
        `(${s.consumptionsPerMemberPerS.toFixed(2)} per member per second), ${s.toWorkflow} decided by the workflow; ` +
        `leases granted ${s.leasesGranted}, closed before expiry ${s.leasesReturned}, settled at expiry ` +
        `${s.leasesExpired}, never closed ${s.leasesLeftActive}; actions ${s.history.actions} = ` +
        `${s.history.updates} Updates + ${s.history.activities} ` +
        `activities + ${s.history.timers} timers = ${(s.history.actions / s.members).toFixed(1)} per member; ` +
        `CPU per consumption (load and the expiries after it) ${cpuLine(s.cpuMsPerConsumption)}.`,
    );
  }
  if (teamUsage) {
    out.push(
      `team usage (${teamUsage.members} members, ${teamUsage.pageSize}-row pages): pages p50 ` +
        `${teamUsage.pages.p50Ms} ms, p99 ${teamUsage.pages.p99Ms} ms; searches p50 ${teamUsage.search.p50Ms} ms, ` +
        `p99 ${teamUsage.search.p99Ms} ms` +
        (sustained?.teamUsageUnderLoad
          ? `; during the sustained load: pages p99 ${sustained.teamUsageUnderLoad.pages.p99Ms} ms, searches p99 ` +
            `${sustained.teamUsageUnderLoad.search.p99Ms} ms`
          : '') +
        '.',
    );
  }
  return out;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const padEnd = (s: string | number, n: number) => String(s).padEnd(n);
const mb = (bytes: number) => (Number.isFinite(bytes) ? `${Math.round(bytes / 1024 / 1024)} MB` : 'n/a');
const latencyLine = (l: LatencySummary) =>
  `p50 ${l.p50Ms} ms, p90 ${l.p90Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (${l.ops} requests, ${l.errors} errors)`;

export function printReport(out: BenchResults): void {
  const lines: string[] = [];
  const p = (s = '') => lines.push(s);
  const m = out.machine as {
    cpuModel: string;
    cpuCount: number;
    memoryBytes: number;
    node: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
    loadAverageDuringRun?: { min: number; mean: number; max: number };
    otherProcessesCpus?: { mean: number; max: number; worstPhase: string };
  };
  p();
  p(
    `AI credits benchmark, ${out.startedAt} (${out.durationS} s) on ${m.cpuCount}× ${m.cpuModel}, ${mb(m.memoryBytes)}, node ${m.node}`,
  );
  p(`Load average at start ${m.loadAverageAtStart.join(' ')}, at end ${m.loadAverageAtEnd.join(' ')}.`);
  if (m.loadAverageDuringRun && m.otherProcessesCpus) {
    const l = m.loadAverageDuringRun;
    const o = m.otherProcessesCpus;
    p(
      `1-min load average during the run: min ${l.min}, mean ${l.mean}, max ${l.max}; processes outside the bench ` +
        `used ${o.mean} of the ${m.cpuCount} CPUs over the measured phases (worst ${o.max}, ${o.worstPhase}).`,
    );
  }
  p(`Latency in ms (closed loop, warm-up excluded), throughput in operations per second.`);
  p(String(out.setup.summary ?? ''));
  for (const s of out.scenarios) {
    p();
    p(`${s.title}  (${s.callers} caller${s.callers > 1 ? 's' : ''}, warm-up ${s.warmup})`);
    p(
      `  ${padEnd('path', 34)}${pad('ops', 7)}${pad('p50', 8)}${pad('p90', 8)}${pad('p99', 8)}${pad('max', 8)}` +
        `${pad('ops/s', 8)}${pad('to wf', 7)}${pad('leases', 7)}${pad('act/op', 8)}${pad('retries', 8)}${pad('errors', 7)}`,
    );
    for (const r of [...out.results, ...out.probes].filter((x) => x.scenario === s.id)) {
      p(
        `  ${padEnd(r.title, 34)}${pad(r.ops, 7)}${pad(r.p50Ms.toFixed(1), 8)}${pad(r.p90Ms.toFixed(1), 8)}` +
          `${pad(r.p99Ms.toFixed(1), 8)}${pad(r.maxMs.toFixed(0), 8)}${pad(r.throughputPerS.toFixed(0), 8)}` +
          `${pad(r.toWorkflow ?? '-', 7)}${pad(r.leasesGranted ?? '-', 7)}` +
          `${pad(r.history ? r.history.actionsPerOp.toFixed(3) : '-', 8)}${pad(r.retries, 8)}${pad(r.errors, 7)}`,
      );
    }
    const other = [...out.results, ...out.probes]
      .filter((x) => x.scenario === s.id)
      .map((x) => `${x.path} ${((x.cpuSeconds['other processes'] ?? 0) / (x.wallMs / 1000)).toFixed(2)}`);
    p(`  CPUs used by processes outside the bench meanwhile: ${other.join(', ')}`);
    const rs = out.ratios.perScenario[s.id];
    for (const k of ['A', 'B', 'C'] as const) {
      const x = rs?.[k];
      if (!x) continue;
      p(
        `  ${k}/D: p50 ${x.p50.toFixed(2)}×  p90 ${x.p90.toFixed(2)}×  p99 ${x.p99.toFixed(2)}×  ` +
          `throughput ${x.throughput.toFixed(2)}×`,
      );
    }
    if (s.members > 1) {
      for (const r of out.results.filter(
        (x) => x.scenario === s.id && x.warmup && (x.path === 'A' || x.path === 'B'),
      )) {
        p(
          `  ${r.path} warm-up, each member's first consumption (a lease request to the workflow): ` +
            `p50 ${r.warmup!.p50Ms} ms, p99 ${r.warmup!.p99Ms} ms, ${r.warmup!.throughputPerS}/s`,
        );
      }
    }
  }

  p();
  p('History events per operation, by type (fetched histories of the sampled workflows, measured phase)');
  for (const r of out.results.filter((x) => x.history)) {
    const h = r.history!;
    const parts = Object.entries(h.byTypePerOp).map(([k, v]) => `${k} ${v >= 0.01 ? v.toFixed(2) : v.toFixed(4)}`);
    p(
      `  ${padEnd(`${r.scenario} ${r.path}`, 16)} ${h.eventsPerOp.toFixed(3)}${parts.length ? ` = ${parts.join(', ')}` : ''}`,
    );
  }

  p();
  p('CPU milliseconds per operation, by process (measured phase; 2 CPUs give at most 2,000 ms per second)');
  const procs = Object.keys(out.results[0]?.cpuMsPerOp ?? {});
  p(`  ${padEnd('scenario / path', 46)}${procs.map((n) => pad(n, 16)).join('')}${pad('total', 9)}`);
  for (const r of [...out.results, ...out.probes]) {
    p(
      `  ${padEnd(`${r.scenario} ${r.title}`, 46)}${procs.map((n) => pad((r.cpuMsPerOp[n] ?? 0).toFixed(2), 16)).join('')}` +
        `${pad(sumOf(r.cpuMsPerOp).toFixed(2), 9)}`,
    );
  }

  const th = out.twoHolders;
  if (th) {
    p();
    p(
      `Two lease holders on one member (A and B alternating, ${th.ops} consumptions): p50 ${th.p50Ms} ms, p99 ` +
        `${th.p99Ms} ms, ${th.throughputPerS}/s; ${th.toWorkflow} went to the workflow, ${th.leasesGranted} leases granted`,
    );
  }

  if (out.teamUsage) {
    const u = out.teamUsage;
    p();
    p(
      `Team usage route, ${u.members} members (${u.membersWithUsage} with a usage row), one caller, no bench load ` +
        `(processes outside the bench used ${u.otherProcessesCpus ?? '?'} CPUs; 1-min load ${u.loadAverage1m ?? '?'}):`,
    );
    p(`  ${u.pageSize}-row pages (nextCursor walk): ${latencyLine(u.pages)}`);
    p(`  ?q= searches:                    ${latencyLine(u.search)}`);
  }

  const su = out.sustained;
  if (su) {
    p();
    p(
      `Sustained run (path A): ${su.members} members, ${su.callers} callers, ${su.loadS} s of load (lease TTL ` +
        `${su.leaseTtlS} s), then ${su.waitAfterLoadS} s until every lease was settled and the histories quiet`,
    );
    p(`  consumptions: ${su.load.ops} at ${su.load.throughputPerS}/s; ${latencyLine(su.load)}`);
    p(
      `  to the workflow ${su.toWorkflow}; leases granted ${su.leasesGranted}, closed before expiry ` +
        `${su.leasesReturned}, settled at expiry ${su.leasesExpired}` +
        (su.leasesLeftActive ? `, NEVER CLOSED ${su.leasesLeftActive}` : ''),
    );
    p(
      `  actions: ${su.history.updates} Updates + ${su.history.activities} activities + ${su.history.timers} timers = ` +
        `${su.history.actions} over ${su.history.workflows} workflows (${su.history.runs} runs, ${su.history.events} events)` +
        ` → ${su.temporalActionsPerConsumption} per consumption`,
    );
    p(`  CPU ms per consumption (load + expiries): ${cpuLine(su.cpuMsPerConsumption)}`);
    if (su.teamUsageUnderLoad) {
      p(`  team usage during the load: pages ${latencyLine(su.teamUsageUnderLoad.pages)}`);
      p(`                              searches ${latencyLine(su.teamUsageUnderLoad.search)}`);
    }
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
  if (rn) {
    p();
    p(
      `Renewal: ${rn.members} members whose periods ended at ${rn.periodEnd}, runnable at one instant: first grant ` +
        `${rn.firstGrantMs} ms, half ${rn.halfGrantsMs} ms, 90 % ${rn.p90GrantsMs} ms, all grants ${rn.allGrantsMs} ms, ` +
        `all expiries ${rn.allExpiriesMs} ms; ${rn.verifiedByQuery} of 20 sampled members show the new period by query` +
        (rn.lateStarts ? `; ${rn.lateStarts} starts reached the server after the instant (an upper bound)` : '') +
        '.',
    );
    const cpu = Object.entries(rn.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`);
    p(`  CPU seconds meanwhile: ${cpu.join(', ')}`);
  }

  p();
  const rc = out.reconciliation;
  p(
    `Reconciliation (workflow state = usage row = ledger): ${rc.members} members, ${rc.withDifferences} with ` +
      `differences${rc.withDifferences ? `: ${rc.differences.slice(0, 5).join(' | ')}` : ''}`,
  );

  p();
  p('Breakdown');
  for (const line of out.breakdown) p(`  ${line}`);
  p();
  p('Targets');
  for (const t of out.targets) {
    const value = Number.isFinite(t.value) ? `${t.value.toFixed(t.unit === '' ? 4 : 2)}${t.unit}` : 'not run';
    p(`  ${t.met ? 'met   ' : 'MISSED'}  ${padEnd(t.what, 58)} ${pad(value, 10)}  (target ${t.limit}${t.unit})`);
  }
  p();
  console.log(lines.join('\n'));
}
