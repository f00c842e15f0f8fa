/**
 * `npm run bench`: consumption latency and throughput, side by side on one Temporal dev server and one
 * PostgreSQL, for four paths (see bench/paths.ts) in four scenarios (one hot member with 1, 10 and 50
 * concurrent callers; 1,000 members with 50 callers), plus history events per operation, worker memory and
 * the time to renew 1,000 members whose periods end at the same instant. Method: bench/README.md.
 *
 * Starts its own stack like `npm test` (data under `.data/bench/`; DATABASE_URL / TEMPORAL_ADDRESS are used
 * when set), stops it at the end, also on failure or Ctrl-C. Writes a table to stdout and
 * `bench/results/latest.json`.
 *
 *   npm run bench
 *   BENCH_SCALE=0.25 npm run bench     quicker, fewer operations (a smoke run; not for the record)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import pg from 'pg';
import { createDb, migrateLatest } from '../src/db/knex';
import { CreditStore } from '../src/db/credit-store';
import { TokenStore } from '../src/db/token-store';
import { PlanCatalogue } from '../src/plans';
import { MAX_UPDATES_IN_FLIGHT_PER_MEMBER } from '../src/temporal/member-client';
import { findFreePort, stopListWithSignals } from '../tools/procs';
import { periodContaining, previousPeriod } from '../workflows/domain/periods';
import { memberWorkflowId } from '../workflows/ids';
import { creditStateQuery } from '../workflows/member-credits/messages';
import { MemberCreditsState } from '../workflows/member-credits/state';
import type { MemberIdentity } from '../workflows/member-credits/types';
import { memberCreditsWorkflow } from '../workflows/member-credits/workflow';

const LEDGER_BACKSTOP_MS = 0;
import { floorWorkflow } from './floor/workflows';
import { eventsSince, markHistory, waitForQuietHistory, type HistoryMarker } from './history';
import { closedLoop, CpuMeter, round, summarize, type CpuSource, type LatencySummary } from './load';
import {
  bareUpdater,
  Counters,
  createPeerTable,
  httpConsumer,
  peerConsumer,
  PATH_TITLES,
  PEER_TABLE,
  updateWithStartConsumer,
  type Op,
  type PathId,
} from './paths';
import { judge, printReport, type BenchResults, type PathResult, type RenewalResult } from './report';
import { root, startChild, startServers, type ChildService, formatDuration } from './stack';

const dataDir = path.resolve(process.env.AI_CREDITS_BENCH_DATA ?? path.join(root, '.data', 'bench'));
const resultsDir = path.join(root, 'bench', 'results');
const benchStarted = Date.now();
const log = (msg: string) =>
  console.log(`[bench ${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s] ${msg}`);

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
const scaled = (n: number) => Math.max(20, Math.round(n * SCALE));

const REAL_QUEUE = 'bench-ai-credits';
const FLOOR_QUEUE = 'bench-floor';
const PLAN = 'basic';
const ANCHOR_DAY = 1;
const HOT_TEAM = 'bench-hot';
const MEMBERS_TEAM = 'bench-members';
const RENEWAL_TEAM = 'bench-renewal';
const PEER_TEAM = 'bench-peer';
const MEMBER_COUNT = 1000;
const RENEWAL_COUNT = 1000;
/** Members of the 1,000-member scenario whose histories are fetched and counted. */
const HISTORY_SAMPLE = 50;
/** After a phase, CPU is read again this long past the ledger backstop: the deferred writes are in by then. */
const DEFERRED_MARGIN_MS = 3_000;
/** Idle CPU is sampled this long after setup. */
const IDLE_SAMPLE_MS = 10_000;
const PROVISIONING_TOKEN = 'bench-provisioning-token-0123456789abcdef';
/** Order within a scenario: the floor first, so that it never runs on a server warmed (or tired) by the others. */
const ALL_PATHS: PathId[] = ['C', 'A', 'B', 'D'];
/** For experiments: BENCH_PATHS=C,A runs a subset (C is needed for every ratio). */
const PATH_ORDER = process.env.BENCH_PATHS
  ? ALL_PATHS.filter((p) => process.env.BENCH_PATHS!.split(',').includes(p))
  : ALL_PATHS;

export interface Scenario {
  id: string;
  title: string;
  /** 1: one hot member; otherwise operation i goes to member i mod members. */
  members: number;
  callers: number;
  warmup: number;
  ops: number;
  /** Not in the default run: only when named in BENCH_SCENARIOS. */
  optIn?: boolean;
}

const ALL_SCENARIOS: Scenario[] = [
  { id: 'hot-1', title: 'one hot member, 1 caller', members: 1, callers: 1, warmup: scaled(50), ops: scaled(500) },
  {
    id: 'hot-10',
    title: 'one hot member, 10 callers',
    members: 1,
    callers: 10,
    warmup: scaled(200),
    ops: scaled(2000),
  },
  {
    id: 'hot-50',
    title: 'one hot member, 50 callers',
    members: 1,
    callers: 50,
    warmup: scaled(200),
    ops: scaled(2000),
  },
  {
    id: 'members-1000',
    title: '1,000 members, 50 callers',
    members: MEMBER_COUNT,
    callers: 50,
    warmup: scaled(200),
    ops: scaled(1500),
  },
  {
    // Longer than the ledger backstop delay, so that the deferred writes (and the backstop timers of members that
    // keep consuming) fall inside the measured phase: the sustained cost of the write-through design.
    id: 'members-1000-sustained',
    title: '1,000 members, 50 callers, sustained (opt-in)',
    members: MEMBER_COUNT,
    callers: 50,
    warmup: scaled(200),
    ops: scaled(15000),
    optIn: true,
  },
];
/** For experiments: BENCH_SCENARIOS=hot-50,members-1000 runs a subset (the ratios need hot-50 and members-1000). */
const HOT_SCENARIOS = ALL_SCENARIOS.filter((s) => s.members === 1);
const SPREAD = ALL_SCENARIOS[3];
const SCENARIOS = process.env.BENCH_SCENARIOS
  ? ALL_SCENARIOS.filter((s) => process.env.BENCH_SCENARIOS!.split(',').includes(s.id))
  : ALL_SCENARIOS.filter((s) => !s.optIn);

const memberUser = (i: number) => `m${String(i).padStart(4, '0')}`;
const renewalUser = (i: number) => `r${String(i).padStart(4, '0')}`;
const hotUser = (s: Scenario, p: PathId) => `${s.id}-${p}`;
const floorId = (s: Scenario, i: number) => (s.members === 1 ? `bench-floor/${s.id}` : `bench-floor/m${i}`);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const { stops, stopAll } = stopListWithSignals('bench stack', log);

  try {
    const loadAtStart = os.loadavg();
    log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
    const servers = await startServers(dataDir, stops, log);
    const db = createDb(servers.databaseUrl, { max: 20 });
    stops.push(() => db.destroy());
    await migrateLatest(db);
    const plans = PlanCatalogue.load();
    const plan = plans.get(PLAN)!;
    const peerPool = new pg.Pool({ connectionString: servers.databaseUrl, max: 10 });
    stops.push(() => peerPool.end());

    // ---- data: teams, members, tokens, the peer balance rows ----
    const current = periodContaining(Date.now(), ANCHOR_DAY);
    const setupStarted = Date.now();
    const teams = [HOT_TEAM, MEMBERS_TEAM, RENEWAL_TEAM];
    await db('teams').insert(
      teams.map((t) => ({ team_id: t, plan: PLAN, billing_anchor_day: ANCHOR_DAY, currency: plan.currency })),
    );
    const hotMembers = HOT_SCENARIOS.flatMap((s) =>
      (['A', 'B'] as PathId[]).map((p) => ({ teamId: HOT_TEAM, userId: hotUser(s, p) })),
    );
    const spreadMembers = Array.from({ length: MEMBER_COUNT }, (_, i) => ({
      teamId: MEMBERS_TEAM,
      userId: memberUser(i),
    }));
    const renewalMembers = Array.from({ length: RENEWAL_COUNT }, (_, i) => ({
      teamId: RENEWAL_TEAM,
      userId: renewalUser(i),
    }));
    const allMembers = [...hotMembers, ...spreadMembers, ...renewalMembers];
    for (let i = 0; i < allMembers.length; i += 500) {
      await db('members').insert(
        allMembers.slice(i, i + 500).map((m) => ({
          team_id: m.teamId,
          user_id: m.userId,
          email: `${m.userId}@${m.teamId}.example`,
          roles: ['member'],
        })),
      );
    }
    const tokens = new TokenStore(db);
    const agentToken = {
      [HOT_TEAM]: await tokens.issue({ kind: 'service', service: 'agent', teamId: HOT_TEAM }),
      [MEMBERS_TEAM]: await tokens.issue({ kind: 'service', service: 'agent', teamId: MEMBERS_TEAM }),
    };
    await createPeerTable(peerPool);
    const peerRows = [
      ...HOT_SCENARIOS.map((s) => ({ team_id: PEER_TEAM, user_id: s.id })),
      ...Array.from({ length: MEMBER_COUNT }, (_, i) => ({ team_id: PEER_TEAM, user_id: memberUser(i) })),
    ];
    await db(PEER_TABLE).insert(
      peerRows.map((r) => ({
        ...r,
        period_start: new Date(current.start),
        period_end: new Date(current.end),
        allowance: plan.monthlyAllowance,
      })),
    );
    await db.raw(`vacuum analyze ${PEER_TABLE}`);

    // ---- the processes under test ----
    const apiPort = await findFreePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const common = { ...process.env, TEMPORAL_ADDRESS: servers.temporalAddress, TEMPORAL_NAMESPACE: 'default' };
    const apiLogLevel = process.env.BENCH_API_LOG_LEVEL ?? 'info';
    // For profiling only: BENCH_PROFILE=1 writes a V8 CPU profile of each child to .data/bench/profiles/ at exit.
    const nodeArgs = process.env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir', path.join(dataDir, 'profiles')]
      : undefined;
    log('starting the real worker, the floor worker and the API (child processes; the workers bundle their code)…');
    const childrenStarted = Date.now();
    const [worker, floorWorker, api] = await Promise.all([
      startChild({
        name: 'real worker',
        script: 'src/worker.ts',
        env: {
          ...common,
          DATABASE_URL: servers.databaseUrl,
          SMTP_URL: servers.smtpUrl,
          TEMPORAL_TASK_QUEUE: REAL_QUEUE,
        },
        logFile: path.join(dataDir, 'worker.log'),
        ready: /worker polling task queue/,
        nodeArgs,
      }),
      startChild({
        name: 'floor worker',
        script: 'bench/floor/worker.ts',
        env: { ...common, TEMPORAL_TASK_QUEUE: FLOOR_QUEUE },
        logFile: path.join(dataDir, 'floor-worker.log'),
        ready: /worker polling task queue/,
        nodeArgs,
      }),
      startChild({
        name: 'API',
        script: 'src/api/server.ts',
        env: {
          ...common,
          DATABASE_URL: servers.databaseUrl,
          TEMPORAL_TASK_QUEUE: REAL_QUEUE,
          PORT: String(apiPort),
          HOST: '127.0.0.1',
          PROVISIONING_TOKEN,
          // The bench measures throughput, not the per-token limit (6,000/min by default).
          RATE_LIMIT_AGENT_PER_MINUTE: '100000000',
          LOG_LEVEL: apiLogLevel,
        },
        logFile: path.join(dataDir, 'api.log'),
        nodeArgs,
        ready: async () => (await fetch(`${apiUrl}/healthz`)).status === 200,
      }),
    ]);
    const children: ChildService[] = [worker, floorWorker, api];
    for (const c of children) stops.push(c.stop);
    log(
      `children ready in ${formatDuration(Date.now() - childrenStarted)} (pids: worker ${worker.pid}, floor ${floorWorker.pid}, API ${api.pid})`,
    );
    const memory: Record<string, Record<string, number>> = {};
    const snapshotMemory = (label: string) => {
      memory[label] = {};
      for (const c of children) memory[label][c.name] = c.memory()?.rss ?? NaN;
    };
    snapshotMemory('idle after start');

    const connection = await Connection.connect({ address: servers.temporalAddress });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    // ---- running workflows: every member of the first two teams, and the floor workflows ----
    const identity = (m: { teamId: string; userId: string }): MemberIdentity => ({
      ...m,
      billingAnchorDay: ANCHOR_DAY,
      plan,
    });
    const startsBegan = Date.now();
    const running = [...hotMembers, ...spreadMembers];
    const floorIds = [
      ...HOT_SCENARIOS.map((s) => floorId(s, 0)),
      ...Array.from({ length: MEMBER_COUNT }, (_, i) => floorId(SPREAD, i)),
    ];
    await Promise.all([
      inPool(running, 25, (m) =>
        client.workflow.start(memberCreditsWorkflow, {
          workflowId: memberWorkflowId(m.teamId, m.userId),
          taskQueue: REAL_QUEUE,
          args: [identity(m)],
        }),
      ),
      inPool(floorIds, 25, (id) => client.workflow.start(floorWorkflow, { workflowId: id, taskQueue: FLOOR_QUEUE })),
    ]);
    const startRatePerS = ((running.length + floorIds.length) / (Date.now() - startsBegan)) * 1000;
    await until('the grants of every started member', 120_000, async () => {
      const [{ n }] = await db('ledger_entries').where({ kind: 'grant' }).count({ n: '*' });
      return Number(n) >= running.length ? true : undefined;
    });
    log(
      `setup: ${allMembers.length} members, ${running.length} member and ${floorIds.length} floor workflows running ` +
        `(${Math.round(startRatePerS)} starts/s) in ${formatDuration(Date.now() - setupStarted)}`,
    );
    snapshotMemory('after setup (1,006 member workflows cached)');

    // ---- the load ----
    const cpuSources: CpuSource[] = [
      { name: 'API', pid: api.pid },
      { name: 'real worker', pid: worker.pid },
      { name: 'floor worker', pid: floorWorker.pid },
      ...(servers.temporalPid ? [{ name: 'Temporal server', pid: servers.temporalPid }] : []),
      ...(servers.postmasterPid ? [{ name: 'PostgreSQL', pid: servers.postmasterPid, tree: true }] : []),
    ];
    const cpu = new CpuMeter(cpuSources);
    // Idle CPU of every process (the servers' background work), subtracted from the deferred-work figures below.
    cpu.start();
    await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
    const idleCpuPerS = Object.fromEntries(
      Object.entries(cpu.stop()).map(([k, v]) => [k, round(v / (IDLE_SAMPLE_MS / 1000), 4)]),
    );
    log(
      `idle CPU per second: ${Object.entries(idleCpuPerS)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    const http = httpConsumer(apiUrl, 64);
    const peer = peerConsumer(peerPool);
    const identityOf = (teamId: string, userId: string) => identity({ teamId, userId });
    const pendingWritten = async (id: string) =>
      (await client.workflow.getHandle(id).query(creditStateQuery)).pendingRecords === 0;

    /** The operation of one path in one scenario, and the workflows whose histories are counted. */
    const makeOp = (
      s: Scenario,
      p: PathId,
      counters: Counters,
    ): { op: Op; historyIds: string[]; quietReady?: (id: string) => Promise<boolean> } => {
      const target = (i: number) => (s.members === 1 ? 0 : i % s.members);
      const requestId = (i: number) => `${s.id}.${p}.${i}`;
      // Of the 1,000, members no warm-up operation touched (so that their counted events are the measured ones).
      const sampled = s.members === 1 ? [0] : Array.from({ length: HISTORY_SAMPLE }, (_, k) => sampleOffset(s) + k);
      const member = (i: number) =>
        s.members === 1 ? { teamId: HOT_TEAM, userId: hotUser(s, p) } : spreadMembers[target(i)];
      const memberIds = sampled.map((k) => memberWorkflowId(member(k).teamId, member(k).userId));
      switch (p) {
        case 'A': {
          const token = agentToken[s.members === 1 ? HOT_TEAM : MEMBERS_TEAM];
          const op: Op = (i) => http.consume(member(i).teamId, member(i).userId, token, requestId(i));
          return { op, historyIds: memberIds, quietReady: pendingWritten };
        }
        case 'B': {
          const consume = updateWithStartConsumer(client, REAL_QUEUE, counters);
          const op: Op = (i) => consume(identityOf(member(i).teamId, member(i).userId), requestId(i));
          return { op, historyIds: memberIds, quietReady: pendingWritten };
        }
        case 'C': {
          const update = bareUpdater(client, counters);
          const op: Op = (i) => update(floorId(s, target(i)), requestId(i));
          return { op, historyIds: sampled.map((k) => floorId(s, k)) };
        }
        case 'D': {
          const op: Op = (i) => peer(PEER_TEAM, s.members === 1 ? s.id : memberUser(target(i)), requestId(i));
          return { op, historyIds: [] };
        }
      }
    };

    const results: PathResult[] = [];
    const peakRss: Record<string, number> = {};
    const rssSampler = setInterval(() => {
      for (const c of children) peakRss[c.name] = Math.max(peakRss[c.name] ?? 0, c.memory()?.rss ?? 0);
    }, 250);
    stops.push(async () => clearInterval(rssSampler));

    for (const s of SCENARIOS) {
      for (const p of PATH_ORDER) {
        const counters = new Counters();
        const { op, historyIds, quietReady } = makeOp(s, p, counters);
        await closedLoop(s.callers, s.warmup, op, 0);
        let markers: HistoryMarker[] = [];
        if (historyIds.length > 0) {
          // Stable, not drained: a warm-up entry still waiting for its backstop is written during the phase and
          // counted there (a few events over thousands of operations; the sampled 1,000 members had no warm-up).
          await waitForQuietHistory(client, historyIds);
          markers = await Promise.all(historyIds.map((id) => markHistory(client, id)));
        }
        counters.retries = 0;
        cpu.start();
        const phase = await closedLoop(s.callers, s.ops, op, s.warmup);
        const phaseEnded = Date.now();
        const cpuSeconds = cpu.stop();
        let history: PathResult['history'];
        let cpuSecondsInclDeferred: Record<string, number> | undefined;
        if (markers.length > 0) {
          if (quietReady) {
            // Wait (without polling the server) until every entry of the phase that nobody acknowledged has met
            // its workflow's backstop (the delay plus its per-member jitter of up to a quarter), then for quiet.
            const until = phaseEnded + LEDGER_BACKSTOP_MS * 1.25 + DEFERRED_MARGIN_MS;
            await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
          }
          await waitForQuietHistory(client, historyIds, { ready: quietReady, timeoutMs: LEDGER_BACKSTOP_MS + 120_000 });
          if (quietReady) {
            const idleSeconds = (Date.now() - phaseEnded) / 1000;
            cpuSecondsInclDeferred = Object.fromEntries(
              Object.entries(cpu.stop()).map(([k, v]) => [k, round(v - (idleCpuPerS[k] ?? 0) * idleSeconds, 2)]),
            );
          }
          const counts = await Promise.all(markers.map((m) => eventsSince(client, m)));
          const events = counts.reduce((a, c) => a + c.events, 0);
          const opsOnSample = opsOn(s, historyIds.length);
          const byType: Record<string, number> = {};
          for (const c of counts) for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
          history = {
            workflows: historyIds.length,
            events,
            ops: opsOnSample,
            eventsPerOp: round(events / opsOnSample, 2),
            byTypePerOp: Object.fromEntries(
              Object.entries(byType)
                .sort((a, b) => b[1] - a[1])
                .map(([k, v]) => [k, round(v / opsOnSample, 3)]),
            ),
            runs: counts.reduce((a, c) => a + c.runs, 0),
          };
        }
        const summary: LatencySummary = summarize(phase);
        const r: PathResult = {
          scenario: s.id,
          path: p,
          title: PATH_TITLES[p],
          ...summary,
          retries: counters.retries,
          errorSamples: phase.errorSamples,
          history,
          cpuSeconds,
          cpuMsPerOp: perOp(cpuSeconds, s.ops),
          ...(cpuSecondsInclDeferred && {
            cpuSecondsInclDeferred,
            cpuMsPerOpInclDeferred: perOp(cpuSecondsInclDeferred, s.ops),
          }),
        };
        results.push(r);
        log(
          `${s.id} ${p}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.throughputPerS}/s` +
            (history ? `, ${history.eventsPerOp} events/op` : '') +
            (r.errors ? `, ${r.errors} ERRORS (${r.errorSamples[0]})` : '') +
            (r.retries ? `, ${r.retries} retries` : ''),
        );
      }
      snapshotMemory(`after ${s.id}`);
    }

    // ---- the HTTP + authentication floor of the API (for the breakdown) ----
    const probes: PathResult[] = [];
    for (const s of SCENARIOS.filter((x) => x.id === 'hot-1' || x.id === 'members-1000')) {
      const token = agentToken[MEMBERS_TEAM];
      const op: Op = (i) => http.rejected(MEMBERS_TEAM, memberUser(i % MEMBER_COUNT), token, `${s.id}.probe.${i}`);
      await closedLoop(s.callers, s.warmup, op, 0);
      cpu.start();
      const phase = await closedLoop(s.callers, s.ops, op, s.warmup);
      const cpuSeconds = cpu.stop();
      probes.push({
        scenario: s.id,
        path: 'H',
        title: 'H  HTTP + auth + validation only (400)',
        ...summarize(phase),
        retries: 0,
        errorSamples: phase.errorSamples,
        cpuSeconds,
        cpuMsPerOp: perOp(cpuSeconds, s.ops),
      });
    }

    // ---- renewal: 1,000 members whose periods end at the same instant ----
    const renewal =
      process.env.BENCH_RENEWAL === '0'
        ? undefined
        : await measureRenewal(client, db, renewalMembers.map(identity), startRatePerS, cpu);
    snapshotMemory('after renewal');
    clearInterval(rssSampler);
    const peaks: Record<string, number> = {};
    for (const c of children) peaks[c.name] = Math.max(peakRss[c.name] ?? 0, c.memory()?.peak ?? 0);

    const loadAtEnd = os.loadavg();
    const finishedAt = new Date();
    const [{ version: postgresVersion }] = (await db.raw('select version()')).rows as { version: string }[];
    const system = await connection.workflowService.getSystemInfo({});
    const out: BenchResults = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      command: 'npm run bench',
      scale: SCALE,
      machine: {
        hostname: os.hostname(),
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        cpuCount: os.cpus().length,
        memoryBytes: os.totalmem(),
        os: `${os.type()} ${os.release()} (${os.arch()})`,
        node: process.version,
        temporalCli: servers.temporalCli ?? 'not started by the bench (TEMPORAL_ADDRESS given)',
        temporalServer: system.serverVersion ?? 'unknown',
        temporalSdk: sdkVersion(),
        postgres: postgresVersion,
        loadAverageAtStart: loadAtStart.map((l) => round(l, 2)),
        loadAverageAtEnd: loadAtEnd.map((l) => round(l, 2)),
      },
      setup: {
        summary:
          'Real worker, floor worker and API are child processes with SDK and server defaults; B and C keep at most ' +
          `${MAX_UPDATES_IN_FLIGHT_PER_MEMBER} Updates in flight per workflow, as CreditsService does for A.`,
        startedPostgres: servers.startedPostgres,
        startedTemporal: servers.startedTemporal,
        postgresSettings: servers.postgresSettings,
        temporalDynamicConfig: servers.temporalDynamicConfig,
        processes:
          'real worker (src/worker.ts), floor worker (bench/floor/worker.ts) and API (src/api/server.ts) each run ' +
          'as a child process (node --import tsx) with SDK and server defaults; the load generator is this process',
        realTaskQueue: REAL_QUEUE,
        floorTaskQueue: FLOOR_QUEUE,
        apiLogLevel,
        plan: PLAN,
        consumption: '0.01 credits (10 millicredits), action chat: every member stays within its allowance',
        peerPoolSize: 10,
        httpClient: 'node:http, keep-alive agent, up to 64 sockets',
        historySample: `the hot workflow; ${HISTORY_SAMPLE} of the 1,000 that no warm-up operation reached`,
        ledgerBackstopMs: LEDGER_BACKSTOP_MS,
        idleCpuSecondsPerSecond: idleCpuPerS,
      },
      method: METHOD,
      scenarios: SCENARIOS,
      results,
      probes,
      ...judge(results),
      memory: { rssBytes: memory, peakRssBytes: peaks },
      renewal,
    };
    printReport(out);
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, 'latest.json');
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    log(
      `results written to ${path.relative(root, file)}; total ${formatDuration(finishedAt.getTime() - startedAt.getTime())}`,
    );
    const errors = results.reduce((a, r) => a + r.errors, 0);
    return errors > 0 ? 1 : 0;
  } finally {
    await stopAll();
  }
}

/** Operations of the measured phase that hit the first `sampled` workflows of a scenario. */
function opsOn(s: Scenario, sampled: number): number {
  if (s.members === 1) return s.ops;
  const from = sampleOffset(s);
  let n = 0;
  for (let i = s.warmup; i < s.warmup + s.ops; i++) if (i % s.members >= from && i % s.members < from + sampled) n++;
  return n;
}

/** First sampled member of a many-member scenario: the first one the warm-up did not reach. */
function sampleOffset(s: Scenario): number {
  return s.members === 1 ? 0 : Math.min(s.warmup, s.members - HISTORY_SAMPLE);
}

function perOp(cpuSeconds: Record<string, number>, ops: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, round((v * 1000) / ops, 3)]));
}

/**
 * 1,000 members whose periods end at the same instant. A billing date is 00:00 UTC, so a period cannot be made
 * to end a few seconds from now; instead each member's workflow is started with the state a run holds at the
 * end of its period (carried snapshot: the previous period, its grant and some use already in the ledger), all
 * with a delayed start at one instant T. At T the server hands the worker 1,000 first workflow tasks at once,
 * as it hands out 1,000 timers firing on a billing date; each run closes the period (expiry row), opens the
 * next (grant row) and continues as new, and the new run writes both rows. Measured from T until every grant
 * and every expiry of the renewal is in the ledger.
 */
async function measureRenewal(
  client: Client,
  db: Knex,
  members: MemberIdentity[],
  startRatePerS: number,
  cpu: CpuMeter,
): Promise<RenewalResult> {
  const current = periodContaining(Date.now(), ANCHOR_DAY);
  const previous = previousPeriod(current, ANCHOR_DAY);
  const records = new CreditStore(db);
  const carried = new Map<string, ReturnType<MemberCreditsState['snapshot']>>();
  await inPool(members, 10, async (m) => {
    const workflowId = memberWorkflowId(m.teamId, m.userId);
    const state = MemberCreditsState.open(m, previous.start, 'bench-seed', { paygEnabled: true });
    state.consume(
      { requestId: 'seed-1', action: 'chat', millicredits: 150_000, holder: 'bench' },
      previous.start + 60_000,
    );
    const next = state.nextRecords(100);
    if (next) {
      await records.writeRecords(next.batch, { workflowId, runId: 'bench-seed' });
      state.recordsStored(next.throughSeq);
    }
    carried.set(workflowId, state.snapshot());
  });
  const leadMs = Math.round(3_000 + ((1.3 * members.length) / startRatePerS) * 1000);
  const instant = Date.now() + leadMs;
  log(`renewal: starting ${members.length} members, all runnable at ${new Date(instant).toISOString()}…`);
  await inPool(members, 50, (m) => {
    const workflowId = memberWorkflowId(m.teamId, m.userId);
    return client.workflow.start(memberCreditsWorkflow, {
      workflowId,
      taskQueue: REAL_QUEUE,
      args: [{ ...m, carried: carried.get(workflowId) }],
      startDelay: Math.max(1, instant - Date.now()),
    });
  });
  if (Date.now() > instant - 200) throw new Error('starting the renewal members took longer than planned; rerun');
  await new Promise((r) => setTimeout(r, instant - Date.now()));
  cpu.start();
  const marks = { first: NaN, half: NaN, p90: NaN, allGrants: NaN, allExpiries: NaN };
  const deadline = Date.now() + 300_000;
  for (;;) {
    const row = (
      await db.raw(
        `select count(*) filter (where kind = 'grant' and period_start = ?) as grants,
                count(*) filter (where kind = 'expire' and period_start = ?) as expiries
           from ledger_entries where team_id = ?`,
        [new Date(current.start), new Date(previous.start), RENEWAL_TEAM],
      )
    ).rows[0] as { grants: string; expiries: string };
    const t = Date.now() - instant;
    const grants = Number(row.grants);
    const expiries = Number(row.expiries);
    if (grants > 0 && Number.isNaN(marks.first)) marks.first = t;
    if (grants >= members.length / 2 && Number.isNaN(marks.half)) marks.half = t;
    if (grants >= members.length * 0.9 && Number.isNaN(marks.p90)) marks.p90 = t;
    if (grants >= members.length && Number.isNaN(marks.allGrants)) marks.allGrants = t;
    if (expiries >= members.length && Number.isNaN(marks.allExpiries)) marks.allExpiries = t;
    if (!Number.isNaN(marks.allGrants) && !Number.isNaN(marks.allExpiries)) break;
    if (Date.now() > deadline)
      throw new Error(`renewal incomplete after 5 min: ${grants} grants, ${expiries} expiries`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const cpuSeconds = cpu.stop();
  let verified = 0;
  for (const m of members.slice(0, 20)) {
    const view = await client.workflow.getHandle(memberWorkflowId(m.teamId, m.userId)).query(creditStateQuery);
    if (
      view.balance.periodStart === current.start &&
      view.balance.used === 0 &&
      view.balance.remaining === m.plan.monthlyAllowance
    ) {
      verified++;
    }
  }
  return {
    members: members.length,
    periodEnd: new Date(previous.end).toISOString(),
    instant: new Date(instant).toISOString(),
    newPeriodStart: new Date(current.start).toISOString(),
    firstGrantMs: marks.first,
    halfGrantsMs: marks.half,
    p90GrantsMs: marks.p90,
    allGrantsMs: marks.allGrants,
    allExpiriesMs: marks.allExpiries,
    verifiedByQuery: verified,
    cpuSeconds,
  };
}

function sdkVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(root, 'node_modules', '@temporalio', 'worker', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

const METHOD: Record<string, string> = {
  paths:
    'A: POST /v1/teams/{team}/members/{user}/consumptions with a team-scoped agent token (the real path: Fastify, ' +
    'cached token auth, CreditsService → Update on the running member workflow → ledger activity). B: ' +
    'executeUpdateWithStart(consume) with USE_EXISTING on the running member workflow, from this process. C: ' +
    'executeUpdate on a running bare workflow whose handler returns null (same input payload), from this process. ' +
    'D: one PostgreSQL transaction: UPDATE balance … WHERE allowance - used >= n RETURNING, then INSERT into ' +
    'ledger_entries, COMMIT (pg pool of 10, prepared statements).',
  scenarios:
    'hot: every operation goes to one member (A and B each have their own hot member, C its own bare workflow, ' +
    'D its own balance row); 1,000 members: operation i goes to member i mod 1,000 (all 1,000 workflows run and ' +
    'are cached in their worker before the scenario starts).',
  measurement:
    'Closed loop: N callers each start their next operation when the previous one answers. Warm-up operations ' +
    'run first with the same concurrency and are excluded; then a fixed number of operations is timed one by one ' +
    '(performance.now around the call). Throughput = measured operations / wall time of the measured phase. ' +
    'Percentiles are nearest-rank. Order in each scenario: C, A, B, D.',
  history:
    'After the warm-up and once histories are quiet (no pending ledger writes, event count stable), the run id and ' +
    'event count are noted; after the measured phase (quiet again) the histories are fetched, walking back through ' +
    'continue-as-new, and the new events divided by the operations that went to those workflows.',
  cpu: 'utime + stime from /proc/<pid>/stat for each process (PostgreSQL: postmaster and its backends) over the measured phase.',
  memory:
    'VmRSS from /proc/<pid>/status of each child process at the marked moments; peak = max(VmHWM, 250 ms samples).',
  renewal:
    'See measureRenewal in bench/run.ts: 1,000 members with a carried state whose period ended at the last ' +
    'billing date, started with one delayed-start instant; time from that instant until all 1,000 grant and ' +
    'expiry rows are in the ledger (polled every 25 ms).',
};

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
