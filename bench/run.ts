/**
 * `npm run bench`: consumption latency and throughput on budget leases, side by side on one Temporal dev server
 * and one PostgreSQL, for four paths (see bench/paths.ts) in four scenarios (one hot member with 1, 10 and 50
 * concurrent callers; 1,000 members with 50 callers); the usage route of a 1,000-member team; a sustained run
 * past the lease TTL whose member histories give the Temporal actions per consumption; process memory; and the
 * time to renew 1,000 members whose periods end at the same instant. Method: bench/README.md.
 *
 * Starts its own stack like `npm test` (data under `.data/bench/`; DATABASE_URL / TEMPORAL_ADDRESS are used
 * when set), stops it at the end, also on failure or Ctrl-C. Writes a table to stdout and
 * `bench/results/latest.json`.
 *
 *   npm run bench
 *   BENCH_SCALE=0.25 BENCH_SUSTAINED=0 npm run bench     a smoke run (fewer operations; not for the record)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Knex } from 'knex';
import pg from 'pg';
import { memberCredits } from '../src/api/server';
import { createDb, migrateLatest } from '../src/db/knex';
import { TokenStore } from '../src/db/token-store';
import { PlanCatalogue } from '../src/plans';
import { connectClient, plainText, plainTextEnv, temporalSettings } from '../src/temporal/connection';
import { MAX_UPDATES_IN_FLIGHT_PER_MEMBER } from '../src/temporal/member-client';
import { reconcileMember } from '../src/credits/reconcile';
import { findFreePort, stopListWithSignals } from '../tools/procs';
import { periodContaining } from '../workflows/domain/periods';
import { memberWorkflowId } from '../workflows/ids';
import { creditStateQuery } from '../workflows/member-credits/messages';
import { LEASE_TTL_MS } from '../workflows/member-credits/state';
import type { MemberIdentity } from '../workflows/member-credits/types';
import { memberCreditsWorkflow } from '../workflows/member-credits/workflow';
import { floorWorkflow } from './floor/workflows';
import { actionsIn, eventsSince, markHistory, waitForQuietHistory, type HistoryMarker } from './history';
import { closedLoop, closedLoopFor, CpuMeter, inPool, round, summarize, type CpuSource } from './load';
import { seedEndedPeriods } from './seed';
import {
  bareUpdater,
  Counters,
  createPeerTable,
  httpConsumer,
  inProcessConsumer,
  peerConsumer,
  MILLICREDITS,
  PATH_TITLES,
  PEER_TABLE,
  type Op,
  type PathId,
} from './paths';
import {
  judge,
  printReport,
  type BenchResults,
  type PathResult,
  type RenewalResult,
  type SustainedResult,
  type TeamUsageResult,
} from './report';
import { root, startChild, startServers, type ChildService, formatDuration } from './stack';

const dataDir = path.resolve(process.env.AI_CREDITS_BENCH_DATA ?? path.join(root, '.data', 'bench'));
const resultsDir = path.join(root, 'bench', 'results');
const benchStarted = Date.now();
const log = (msg: string) =>
  console.log(`[bench ${((Date.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
const scaled = (n: number) => Math.max(20, Math.round(n * SCALE));

const REAL_QUEUE = 'bench-ai-credits';
const FLOOR_QUEUE = 'bench-floor';
const PLAN = 'basic';
const ANCHOR_DAY = 1;
const HOT_TEAM = 'bench-hot';
const MEMBERS_TEAM = 'bench-members';
/** B's 1,000 members: on A's, B's first consumptions would take back the leases the API holds (see TWO_HOLDERS). */
const MEMBERS_B_TEAM = 'bench-members-b';
const RENEWAL_TEAM = 'bench-renewal';
const SUSTAINED_TEAM = 'bench-sustained';
const PEER_TEAM = 'bench-peer';
const MEMBER_COUNT = 1000;
const RENEWAL_COUNT = 1000;
const SUSTAINED_COUNT = Number(process.env.BENCH_SUSTAINED_MEMBERS ?? '300');
const SUSTAINED_CALLERS = 50;
/**
 * Past the lease TTL, so that every member's first lease is given back and renewed while the load goes on, and
 * the second lease serves for a minute before the load stops; its expiry is then waited for.
 */
const SUSTAINED_LOAD_MS = LEASE_TTL_MS + 60_000;
/** Members of the 1,000-member scenario whose histories are fetched and counted. */
const HISTORY_SAMPLE = 50;
/** Requests of each kind in a team-usage measurement (one caller), after a few untimed ones. */
const USAGE_REQUESTS = 1000;
const USAGE_PAGE = 100;
/** A wait that scales with the work gives up only when nothing has moved for this long. */
const STALL_MS = 10 * 60_000;
const PROGRESS_MS = 30_000;
const PROVISIONING_TOKEN = 'bench-provisioning-token-0123456789abcdef';
/** One member whose consumptions alternate between the API (A) and the in-process holder (B): two API instances. */
const TWO_HOLDERS = { id: 'two-holders', userId: 'two-holders', callers: 10, warmup: 20, ops: scaled(1000) };
/** Order within a scenario: the floor first, so that it never runs on a server warmed (or tired) by the others. */
const ALL_PATHS: PathId[] = ['C', 'A', 'B', 'D'];
/** For experiments: BENCH_PATHS=A,D runs a subset (D is needed for every ratio). */
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
  /** Measured operations of A, B and D. */
  ops: number;
  /** Measured operations of C, the bare Update: some thirty times slower, and only a reference now. */
  floorOps: number;
}

const ALL_SCENARIOS: Scenario[] = [
  {
    id: 'hot-1',
    title: 'one hot member, 1 caller',
    members: 1,
    callers: 1,
    warmup: scaled(50),
    ops: scaled(2000),
    floorOps: scaled(500),
  },
  {
    id: 'hot-10',
    title: 'one hot member, 10 callers',
    members: 1,
    callers: 10,
    warmup: scaled(200),
    ops: scaled(10000),
    floorOps: scaled(2000),
  },
  {
    id: 'hot-50',
    title: 'one hot member, 50 callers',
    members: 1,
    callers: 50,
    warmup: scaled(200),
    ops: scaled(10000),
    floorOps: scaled(2000),
  },
  {
    // The warm-up gives every member its first consumption, the one that asks the workflow for a lease (timed
    // and reported apart); the measured phase is the steady state, 20 consumptions per member from their leases.
    id: 'members-1000',
    title: '1,000 members, 50 callers',
    members: MEMBER_COUNT,
    callers: 50,
    warmup: MEMBER_COUNT,
    ops: scaled(20000),
    floorOps: scaled(1500),
  },
];
/** For experiments: BENCH_SCENARIOS=hot-50,members-1000 runs a subset (the targets need members-1000). */
const HOT_SCENARIOS = ALL_SCENARIOS.filter((s) => s.members === 1);
const SPREAD = ALL_SCENARIOS[3];
const SCENARIOS = process.env.BENCH_SCENARIOS
  ? ALL_SCENARIOS.filter((s) => process.env.BENCH_SCENARIOS!.split(',').includes(s.id))
  : ALL_SCENARIOS;

const memberUser = (i: number) => `m${String(i).padStart(4, '0')}`;
const renewalUser = (i: number) => `r${String(i).padStart(4, '0')}`;
const sustainedUser = (i: number) => `s${String(i).padStart(4, '0')}`;
const hotUser = (s: Scenario, p: PathId) => `${s.id}-${p}`;
const floorId = (s: Scenario, i: number) => (s.members === 1 ? `bench-floor/${s.id}` : `bench-floor/m${i}`);
const opsOf = (s: Scenario, p: PathId) => (p === 'C' ? s.floorOps : s.ops);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A workflow start on a busy server: a deadline exceeded or an unavailable server is tried again (with a growing
 * pause, said in the log), and "already started" is then the earlier attempt's success, whose answer was lost.
 * Gives up only after 10 attempts in a row fail.
 */
async function startOnce(what: string, start: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      return;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError && attempt > 1) return;
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (attempt >= 10 || !/DEADLINE|UNAVAILABLE|RESOURCE_EXHAUSTED|deadline|unavailable/i.test(text)) throw err;
      log(`  ${what}: ${text}; trying again (attempt ${attempt + 1})`);
      await sleep(Math.min(10_000, 250 * 2 ** attempt));
    }
  }
}

/**
 * Waits until `count()` reaches `total`, saying how far it got every 30 s. No fixed deadline: it gives up only
 * when the count has not moved for STALL_MS, so a slow machine only takes longer.
 */
async function waitForCount(what: string, total: number, count: () => Promise<number>): Promise<void> {
  const started = Date.now();
  let last = -1;
  let movedAt = started;
  let saidAt = started;
  for (;;) {
    const n = await count();
    if (n >= total) {
      log(`${what}: ${n} of ${total} in ${formatDuration(Date.now() - started)}`);
      return;
    }
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt > STALL_MS) {
      throw new Error(`${what}: stuck at ${n} of ${total} for ${STALL_MS / 60_000} min`);
    }
    if (Date.now() - saidAt >= PROGRESS_MS) {
      saidAt = Date.now();
      const rate = n / ((Date.now() - started) / 1000);
      const eta = rate > 0 ? `, about ${formatDuration(((total - n) / rate) * 1000)} to go` : '';
      log(`  ${what}: ${n} of ${total} after ${formatDuration(Date.now() - started)}${eta}`);
    }
    await sleep(250);
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const { stops, stopAll } = stopListWithSignals('bench stack', log);

  try {
    const loadAtStart = os.loadavg();
    log(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} CPUs)`);
    // The machine may be shared (a test suite beside the bench): its load is recorded with the results.
    const loadSamples: number[] = [];
    const loadSampler = setInterval(() => loadSamples.push(os.loadavg()[0]), 5_000);
    loadSampler.unref();
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
    const teams = [HOT_TEAM, MEMBERS_TEAM, MEMBERS_B_TEAM, RENEWAL_TEAM, SUSTAINED_TEAM];
    await db('teams').insert(
      teams.map((t) => ({ team_id: t, plan: PLAN, billing_anchor_day: ANCHOR_DAY, currency: plan.currency })),
    );
    const hotMembers = [
      ...HOT_SCENARIOS.flatMap((s) =>
        (['A', 'B'] as PathId[]).map((p) => ({ teamId: HOT_TEAM, userId: hotUser(s, p) })),
      ),
      { teamId: HOT_TEAM, userId: TWO_HOLDERS.userId },
    ];
    const spreadMembers = Array.from({ length: MEMBER_COUNT }, (_, i) => ({
      teamId: MEMBERS_TEAM,
      userId: memberUser(i),
    }));
    const spreadMembersB = spreadMembers.map((m) => ({ ...m, teamId: MEMBERS_B_TEAM }));
    const renewalMembers = Array.from({ length: RENEWAL_COUNT }, (_, i) => ({
      teamId: RENEWAL_TEAM,
      userId: renewalUser(i),
    }));
    const sustainedMembers = Array.from({ length: SUSTAINED_COUNT }, (_, i) => ({
      teamId: SUSTAINED_TEAM,
      userId: sustainedUser(i),
    }));
    // The usage route is for admins: the first of the 1,000 is one, so the team stays at 1,000 members.
    const admin = spreadMembers[0];
    const allMembers = [...hotMembers, ...spreadMembers, ...spreadMembersB, ...renewalMembers, ...sustainedMembers];
    for (let i = 0; i < allMembers.length; i += 500) {
      await db('members').insert(
        allMembers.slice(i, i + 500).map((m) => ({
          team_id: m.teamId,
          user_id: m.userId,
          email: `${m.userId}@${m.teamId}.example`,
          roles: m === admin ? ['member', 'admin'] : ['member'],
        })),
      );
    }
    const tokens = new TokenStore(db);
    const agentToken = {
      [HOT_TEAM]: await tokens.issue({ kind: 'service', service: 'agent', teamId: HOT_TEAM }),
      [MEMBERS_TEAM]: await tokens.issue({ kind: 'service', service: 'agent', teamId: MEMBERS_TEAM }),
      [SUSTAINED_TEAM]: await tokens.issue({ kind: 'service', service: 'agent', teamId: SUSTAINED_TEAM }),
    };
    const adminToken = await tokens.issue({ kind: 'member', teamId: admin.teamId, userId: admin.userId });
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
    // A given Temporal is reached as configured (TLS, API key); the dev server started here speaks plain text.
    const common = {
      ...(servers.startedTemporal ? plainTextEnv(process.env, servers.temporalAddress) : process.env),
      TEMPORAL_NAMESPACE: 'default',
    };
    const settings = servers.startedTemporal ? plainText(temporalSettings()) : temporalSettings();
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
        log,
      }),
      startChild({
        name: 'floor worker',
        script: 'bench/floor/worker.ts',
        env: { ...common, TEMPORAL_TASK_QUEUE: FLOOR_QUEUE },
        logFile: path.join(dataDir, 'floor-worker.log'),
        ready: /worker polling task queue/,
        nodeArgs,
        log,
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
          // The bench measures throughput, not the per-token limits (6,000/min for agents, 600/min for members by
          // default: the team usage measurement sends 2,040 requests with one admin's token).
          RATE_LIMIT_AGENT_PER_MINUTE: '100000000',
          RATE_LIMIT_PER_MINUTE: '100000000',
          LOG_LEVEL: apiLogLevel,
        },
        logFile: path.join(dataDir, 'api.log'),
        nodeArgs,
        ready: async () => (await fetch(`${apiUrl}/healthz`)).status === 200,
        log,
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

    const connection = await connectClient(settings, servers.temporalAddress);
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    // Path B: the API's own wiring in this process, with the API's pool size (10), holding its own leases.
    const bDb = createDb(servers.databaseUrl);
    stops.push(() => bDb.destroy());
    const inProcess = memberCredits({ db: bDb, client, taskQueue: REAL_QUEUE, plans });

    // ---- running workflows: every member but the renewal team's, and the floor workflows ----
    const identity = (m: { teamId: string; userId: string }): MemberIdentity => ({
      ...m,
      billingAnchorDay: ANCHOR_DAY,
      plan,
    });
    const startsBegan = Date.now();
    const running = [...hotMembers, ...spreadMembers, ...spreadMembersB, ...sustainedMembers];
    const floorIds = [
      ...HOT_SCENARIOS.map((s) => floorId(s, 0)),
      ...Array.from({ length: MEMBER_COUNT }, (_, i) => floorId(SPREAD, i)),
    ];
    log(`starting ${running.length} member and ${floorIds.length} floor workflows…`);
    let started = 0;
    const startsDone = waitForCount('workflows started', running.length + floorIds.length, async () => started);
    await Promise.all([
      inPool(running, 25, async (m) => {
        await startOnce(`start ${memberWorkflowId(m.teamId, m.userId)}`, () =>
          client.workflow.start(memberCreditsWorkflow, {
            workflowId: memberWorkflowId(m.teamId, m.userId),
            taskQueue: REAL_QUEUE,
            args: [identity(m)],
          }),
        );
        started++;
      }),
      inPool(floorIds, 25, async (id) => {
        await startOnce(`start ${id}`, () =>
          client.workflow.start(floorWorkflow, { workflowId: id, taskQueue: FLOOR_QUEUE }),
        );
        started++;
      }),
    ]);
    await startsDone;
    const startRatePerS = ((running.length + floorIds.length) / (Date.now() - startsBegan)) * 1000;
    await waitForCount('grants of the started members in the ledger', running.length, async () => {
      const [{ n }] = await db('ledger_entries').where({ kind: 'grant' }).count({ n: '*' });
      return Number(n);
    });
    log(
      `setup: ${allMembers.length} members, ${running.length} member and ${floorIds.length} floor workflows running ` +
        `(${Math.round(startRatePerS)} starts/s) in ${formatDuration(Date.now() - setupStarted)}`,
    );
    snapshotMemory(`after setup (${running.length} member workflows cached)`);

    const cpuSources: CpuSource[] = [
      { name: 'API', pid: api.pid },
      { name: 'real worker', pid: worker.pid },
      { name: 'floor worker', pid: floorWorker.pid },
      ...(servers.temporalPid ? [{ name: 'Temporal server', pid: servers.temporalPid }] : []),
      ...(servers.postmasterPid ? [{ name: 'PostgreSQL', pid: servers.postmasterPid, tree: true }] : []),
    ];
    const cpu = new CpuMeter(cpuSources);
    const http = httpConsumer(apiUrl, 64);
    stops.push(() => http.pool.close());
    const peer = peerConsumer(peerPool);
    const consumeInProcess = inProcessConsumer(inProcess);

    // ---- the usage route of the 1,000-member team, without bench load (every member has its grant's row) ----
    const usageOf = async (label: string) => {
      // A meter of its own: during the sustained run the shared one is timing the load.
      const meter = new CpuMeter(cpuSources);
      meter.start();
      const began = Date.now();
      const r = await measureTeamUsage(label, db, MEMBERS_TEAM, current.start, (pathname) =>
        http.get(pathname, adminToken),
      );
      const cpuSeconds = meter.stop();
      return {
        ...r,
        cpuSeconds,
        otherProcessesCpus: round((cpuSeconds['other processes'] ?? 0) / ((Date.now() - began) / 1000), 2),
        loadAverage1m: round(os.loadavg()[0], 2),
      };
    };
    const teamUsage = await usageOf('no bench load');

    /** The operation of one path in one scenario, and the workflows whose histories are counted. */
    const makeOp = (s: Scenario, p: PathId, counters: Counters): { op: Op; historyIds: string[] } => {
      const target = (i: number) => (s.members === 1 ? 0 : i % s.members);
      const requestId = (i: number) => `${s.id}.${p}.${i < s.warmup ? 'w' : 'm'}${i}`;
      const sampled = s.members === 1 ? [0] : Array.from({ length: HISTORY_SAMPLE }, (_, k) => k);
      const member = (i: number) =>
        s.members === 1
          ? { teamId: HOT_TEAM, userId: hotUser(s, p) }
          : (p === 'B' ? spreadMembersB : spreadMembers)[target(i)];
      const memberIds = sampled.map((k) => memberWorkflowId(member(k).teamId, member(k).userId));
      switch (p) {
        case 'A': {
          const token = agentToken[s.members === 1 ? HOT_TEAM : MEMBERS_TEAM];
          const op: Op = (i) => http.consume(member(i).teamId, member(i).userId, token, requestId(i));
          return { op, historyIds: memberIds };
        }
        case 'B': {
          const op: Op = (i) => consumeInProcess(member(i).teamId, member(i).userId, requestId(i));
          return { op, historyIds: memberIds };
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

    /** A and B: measured consumptions the workflow decided, and leases handed out during the phase. */
    const leaseTraffic = async (s: Scenario, p: PathId, from: Date, to: Date) => {
      const teamId = s.members === 1 ? HOT_TEAM : p === 'B' ? MEMBERS_B_TEAM : MEMBERS_TEAM;
      const rows = (
        await db.raw(
          `select count(*) filter (where lease_id is null)::int as to_workflow, count(*)::int as rows
             from ledger_entries where team_id = ? and kind = 'consume' and request_id like ?`,
          [teamId, `${s.id}.${p}.m%`],
        )
      ).rows[0] as { to_workflow: number; rows: number };
      const [{ n }] = await db('budget_leases')
        .where(s.members === 1 ? { team_id: teamId, user_id: hotUser(s, p) } : { team_id: teamId })
        .whereBetween('created_at', [from, to])
        .count({ n: '*' });
      return { toWorkflow: rows.to_workflow, ledgerRows: rows.rows, leasesGranted: Number(n) };
    };

    const peakRss: Record<string, number> = {};
    const rssSampler = setInterval(() => {
      for (const c of children) peakRss[c.name] = Math.max(peakRss[c.name] ?? 0, c.memory()?.rss ?? 0);
    }, 250);
    stops.push(async () => clearInterval(rssSampler));

    // Sustained and renewal first: each waits for its own leases and timers, and the scenarios' lease expiries
    // (1,000 members × 2, five minutes after their warm-ups) would otherwise land in them.
    // ---- sustained: lease renewals and expiries, and the Temporal actions they cost ----
    const sustained =
      process.env.BENCH_SUSTAINED === '0'
        ? undefined
        : await measureSustained({
            client,
            db,
            cpu,
            members: sustainedMembers,
            consume: (m, requestId) => http.consume(m.teamId, m.userId, agentToken[SUSTAINED_TEAM], requestId),
            usageUnderLoad: () => usageOf('during the sustained load'),
          });
    snapshotMemory('after the sustained run');

    // ---- renewal: 1,000 members whose periods end at the same instant ----
    const renewal =
      process.env.BENCH_RENEWAL === '0'
        ? undefined
        : await measureRenewal(client, db, renewalMembers.map(identity), startRatePerS, cpu);
    if (renewal) snapshotMemory('after renewal');

    const results: PathResult[] = [];

    for (const s of SCENARIOS) {
      for (const p of PATH_ORDER) {
        const ops = opsOf(s, p);
        const counters = new Counters();
        const { op, historyIds } = makeOp(s, p, counters);
        log(`${s.id} ${p}: warm-up ${s.warmup}, then ${ops} measured operations…`);
        const warm = await closedLoop(s.callers, s.warmup, op, 0);
        if (warm.errors > 0) log(`  ${warm.errors} warm-up errors (${warm.errorSamples[0]})`);
        let markers: HistoryMarker[] = [];
        if (historyIds.length > 0) {
          // The warm-up's lease grants and their ledger writes are finished before the marker.
          await waitForQuietHistory(client, historyIds, { log });
          markers = await Promise.all(historyIds.map((id) => markHistory(client, id)));
        }
        counters.retries = 0;
        const phaseStarted = new Date();
        cpu.start();
        const phase = await closedLoop(s.callers, ops, op, s.warmup);
        const cpuSeconds = cpu.stop();
        const phaseEnded = new Date();
        let history: PathResult['history'];
        if (markers.length > 0) {
          await waitForQuietHistory(client, historyIds, { log });
          const counts = await Promise.all(markers.map((m) => eventsSince(client, m)));
          const events = counts.reduce((a, c) => a + c.events, 0);
          const opsOnSample = opsOn(s, ops, historyIds.length);
          const byType: Record<string, number> = {};
          for (const c of counts) for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
          const actions = actionsIn(byType);
          history = {
            workflows: historyIds.length,
            events,
            ops: opsOnSample,
            eventsPerOp: round(events / opsOnSample, 4),
            actions,
            actionsPerOp: round(actions / opsOnSample, 4),
            byTypePerOp: Object.fromEntries(
              Object.entries(byType)
                .sort((a, b) => b[1] - a[1])
                .map(([k, v]) => [k, round(v / opsOnSample, 4)]),
            ),
            runs: counts.reduce((a, c) => a + c.runs, 0),
          };
        }
        const traffic = p === 'A' || p === 'B' ? await leaseTraffic(s, p, phaseStarted, phaseEnded) : undefined;
        if (traffic && traffic.ledgerRows !== ops - phase.errors) {
          // A consumption whose answer came too late for its caller is decided and written all the same.
          log(`  ${traffic.ledgerRows} ledger rows for the ${ops - phase.errors} consumptions answered in time`);
        }
        const r: PathResult = {
          scenario: s.id,
          path: p,
          title: PATH_TITLES[p],
          ...summarize(phase),
          retries: counters.retries,
          errorSamples: phase.errorSamples,
          warmup: summarize(warm),
          ...(traffic && { toWorkflow: traffic.toWorkflow, leasesGranted: traffic.leasesGranted }),
          history,
          cpuSeconds,
          cpuMsPerOp: perOp(cpuSeconds, ops),
        };
        results.push(r);
        log(
          `${s.id} ${p}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.throughputPerS}/s` +
            (traffic ? `, ${traffic.toWorkflow} to the workflow, ${traffic.leasesGranted} leases granted` : '') +
            (history ? `, ${history.actionsPerOp} actions/op` : '') +
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
      await closedLoop(s.callers, Math.min(s.warmup, 200), op, 0);
      cpu.start();
      const phase = await closedLoop(s.callers, s.ops, op, s.warmup);
      const cpuSeconds = cpu.stop();
      probes.push({
        scenario: s.id,
        path: 'H',
        title: 'H  HTTP + auth + validation (400)',
        ...summarize(phase),
        retries: 0,
        errorSamples: phase.errorSamples,
        cpuSeconds,
        cpuMsPerOp: perOp(cpuSeconds, s.ops),
      });
      log(`${s.id} H: p50 ${probes[probes.length - 1].p50Ms} ms, ${probes[probes.length - 1].throughputPerS}/s`);
    }

    // ---- two lease holders on one member: the API and the in-process holder, alternating ----
    const twoHolders = await measureTwoHolders();
    async function measureTwoHolders(): Promise<PathResult> {
      const t = TWO_HOLDERS;
      const op: Op = (i) => {
        const requestId = `${t.id}.${i < t.warmup ? 'w' : 'm'}${i}`;
        return i % 2 === 0
          ? http.consume(HOT_TEAM, t.userId, agentToken[HOT_TEAM], requestId)
          : consumeInProcess(HOT_TEAM, t.userId, requestId);
      };
      log(`${t.id}: one member, A and B alternating, ${t.callers} callers, ${t.ops} measured consumptions…`);
      await closedLoop(t.callers, t.warmup, op, 0);
      const from = new Date();
      cpu.start();
      const phase = await closedLoop(t.callers, t.ops, op, t.warmup);
      const cpuSeconds = cpu.stop();
      const to = new Date();
      const [{ toWorkflow }] = (
        await db.raw(
          `select count(*) filter (where lease_id is null)::int as "toWorkflow" from ledger_entries
            where team_id = ? and kind = 'consume' and request_id like ?`,
          [HOT_TEAM, `${t.id}.m%`],
        )
      ).rows as { toWorkflow: number }[];
      const [{ n }] = await db('budget_leases')
        .where({ team_id: HOT_TEAM, user_id: t.userId })
        .whereBetween('created_at', [from, to])
        .count({ n: '*' });
      const r: PathResult = {
        scenario: t.id,
        path: 'AB',
        title: 'A+B  two lease holders, one member',
        ...summarize(phase),
        retries: 0,
        errorSamples: phase.errorSamples,
        toWorkflow,
        leasesGranted: Number(n),
        cpuSeconds,
        cpuMsPerOp: perOp(cpuSeconds, t.ops),
      };
      log(
        `${t.id}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.throughputPerS}/s, ${toWorkflow} of ${t.ops} to the ` +
          `workflow, ${r.leasesGranted} leases granted` +
          (r.errors ? `, ${r.errors} ERRORS (${r.errorSamples[0]})` : ''),
      );
      return r;
    }

    // ---- the reconciliation check (workflow state = usage row = ledger) on the members the bench consumed on ----
    const reconciliation = await reconcile({ db, client }, [
      ...hotMembers,
      ...spreadMembers.slice(0, HISTORY_SAMPLE),
      ...spreadMembersB.slice(0, HISTORY_SAMPLE),
      ...(sustained ? sustainedMembers : []),
    ]);

    clearInterval(rssSampler);
    const peaks: Record<string, number> = {};
    for (const c of children) peaks[c.name] = Math.max(peakRss[c.name] ?? 0, c.memory()?.peak ?? 0);

    const loadAtEnd = os.loadavg();
    const finishedAt = new Date();
    const [{ version: postgresVersion }] = (await db.raw('select version()')).rows as { version: string }[];
    const system = await connection.workflowService.getSystemInfo({});
    const out: BenchResults = {
      version: 2,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      command: [
        ...Object.entries(process.env)
          .filter(([k]) => k.startsWith('BENCH_'))
          .map(([k, v]) => `${k}=${v}`),
        'npm run bench',
      ].join(' '),
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
        loadAverageDuringRun: {
          what: '1-minute load average, sampled every 5 s over the whole run',
          samples: loadSamples.length,
          min: round(Math.min(...loadSamples), 2),
          mean: round(loadSamples.reduce((a, b) => a + b, 0) / Math.max(1, loadSamples.length), 2),
          max: round(Math.max(...loadSamples), 2),
        },
        otherProcessesCpus: otherProcessesCpus(results),
      },
      setup: {
        summary:
          'Real worker, floor worker and API are child processes with SDK and server defaults; B runs in the load ' +
          `generator; C keeps at most ${MAX_UPDATES_IN_FLIGHT_PER_MEMBER} Updates in flight per workflow, as ` +
          'MemberClient does for A and B. Every consumption is 0.01 credits: members stay within their allowance, ' +
          'far below the 75 % threshold, so a lease serves them until it expires.',
        startedPostgres: servers.startedPostgres,
        startedTemporal: servers.startedTemporal,
        postgresSettings: servers.postgresSettings,
        temporalDynamicConfig: servers.temporalDynamicConfig,
        processes:
          'real worker (src/worker.ts), floor worker (bench/floor/worker.ts) and API (src/api/server.ts) each run ' +
          'as a child process (node --import tsx) with SDK and server defaults; the load generator is this process, ' +
          'and path B (MemberCredits / LeaseHolder with its own pool of 10) runs in it',
        realTaskQueue: REAL_QUEUE,
        floorTaskQueue: FLOOR_QUEUE,
        apiLogLevel,
        plan: PLAN,
        consumption: `0.01 credits (${MILLICREDITS} millicredits), action chat: every member stays within its allowance`,
        leaseTtlMs: LEASE_TTL_MS,
        peerPoolSize: 10,
        apiPoolSize: 10,
        httpClient: 'node:http, keep-alive agent, up to 64 sockets',
        historySample: `the hot workflow; members 0–${HISTORY_SAMPLE - 1} of the 1,000`,
      },
      method: METHOD,
      scenarios: SCENARIOS.map((s) => ({ ...s })),
      results,
      probes,
      ...judge(results, probes, sustained, teamUsage),
      twoHolders,
      reconciliation,
      teamUsage,
      sustained,
      memory: { rssBytes: memory, peakRssBytes: peaks },
      renewal,
    };
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, 'latest.json');
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    printReport(out);
    log(
      `results written to ${path.relative(root, file)}; total ${formatDuration(finishedAt.getTime() - startedAt.getTime())}`,
    );
    const errors =
      results.reduce((a, r) => a + r.errors, 0) +
      (sustained?.load.errors ?? 0) +
      (teamUsage.pages.errors + teamUsage.search.errors);
    return errors > 0 ? 1 : 0;
  } catch (err) {
    // Printed before the cleanup: stopping the stack makes whatever is still in flight fail too ("Channel has
    // been shut down", a destroyed pool), and those later errors must not hide the first one.
    firstError = err;
    log(`FAILED, stopping the stack: ${describeError(err)}`);
    throw err;
  } finally {
    await stopAll();
  }
}

/** The error that ended the run, printed before the cleanup and again at the very end. */
let firstError: unknown;

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.stack ?? `${err.name}: ${err.message}`;
  for (let e: unknown = err.cause, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    text += `\n  caused by ${e.stack ?? `${e.name}: ${e.message}`}`;
  }
  return text;
}

/**
 * `reconcileMember` for each member, once its histories are quiet (every record written): a bench run that
 * leaves workflow state, usage rows and ledger apart has measured a path that is not correct.
 */
async function reconcile(
  deps: { db: Knex; client: Client },
  members: { teamId: string; userId: string }[],
): Promise<BenchResults['reconciliation']> {
  await waitForQuietHistory(
    deps.client,
    members.map((m) => memberWorkflowId(m.teamId, m.userId)),
    { log },
  );
  const differences: string[] = [];
  await inPool(members, 10, async (m) => {
    const r = await reconcileMember(deps, m.teamId, m.userId);
    if (r.differences.length > 0) differences.push(`${m.teamId}/${m.userId}: ${r.differences.join('; ')}`);
  });
  log(
    `reconciliation of ${members.length} members: ${differences.length} with differences` +
      (differences.length ? ` (${differences.slice(0, 3).join(' | ')})` : ''),
  );
  return { members: members.length, withDifferences: differences.length, differences };
}

/** Measured operations that went to the first `sampled` members (or floor workflows) of a scenario. */
function opsOn(s: Scenario, ops: number, sampled: number): number {
  if (s.members === 1) return ops;
  let n = 0;
  for (let i = s.warmup; i < s.warmup + ops; i++) if (i % s.members < sampled) n++;
  return n;
}

/**
 * CPUs used by processes outside the bench (`other processes`: the machine's busy time minus the bench's own
 * processes) over all measured phases, and the worst phase: what else ran on the machine meanwhile.
 */
function otherProcessesCpus(results: PathResult[]): { mean: number; max: number; worstPhase: string } {
  let seconds = 0;
  let wall = 0;
  let max = 0;
  let worstPhase = '';
  for (const r of results) {
    const other = r.cpuSeconds['other processes'] ?? 0;
    seconds += other;
    wall += r.wallMs / 1000;
    const cpus = other / Math.max(0.001, r.wallMs / 1000);
    if (cpus > max) {
      max = cpus;
      worstPhase = `${r.scenario} ${r.path}`;
    }
  }
  return { mean: round(seconds / Math.max(0.001, wall), 2), max: round(max, 2), worstPhase };
}

function perOp(cpuSeconds: Record<string, number>, ops: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, round((v * 1000) / ops, 3)]));
}

interface UsagePage {
  members: { userId: string; balance: { used: string } }[];
  nextCursor: string | null;
}

/**
 * `GET /v1/teams/{team}/usage` by one caller (an admin's page): USAGE_REQUESTS pages of USAGE_PAGE rows walking
 * the team with nextCursor (again from the start after the last page), then as many `?q=` searches: an exact
 * user id (1 row), a user id prefix (10 rows), the email domain (every member matches: a full page).
 */
async function measureTeamUsage(
  label: string,
  db: Knex,
  teamId: string,
  periodStart: number,
  get: (pathname: string) => Promise<UsagePage>,
): Promise<TeamUsageResult> {
  const [{ members, withUsage }] = (
    await db.raw(
      `select count(*)::int as members, count(u.user_id)::int as "withUsage"
         from members m left join member_usage u
           on u.team_id = m.team_id and u.user_id = m.user_id and u.period_start = ?
        where m.team_id = ? and m.status = 'active'`,
      [new Date(periodStart), teamId],
    )
  ).rows as { members: number; withUsage: number }[];
  let cursor: string | null = null;
  const page = async () => {
    const qs = `limit=${USAGE_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await get(`/v1/teams/${teamId}/usage?${qs}`);
    const expected = Math.min(USAGE_PAGE, members);
    if (r.members.length !== expected && r.nextCursor !== null) {
      throw new Error(`a usage page held ${r.members.length} members, expected ${expected}`);
    }
    cursor = r.nextCursor;
  };
  const queries = (i: number) => {
    switch (i % 3) {
      case 0:
        return { q: memberUser(i % members), rows: 1 };
      case 1:
        return { q: memberUser((i * 10) % members).slice(0, 4), rows: 10 };
      default:
        return { q: `@${teamId}`, rows: Math.min(USAGE_PAGE, members) };
    }
  };
  const search = async (i: number) => {
    const { q, rows } = queries(i);
    const r = await get(`/v1/teams/${teamId}/usage?limit=${USAGE_PAGE}&q=${encodeURIComponent(q)}`);
    if (r.members.length !== rows) throw new Error(`?q=${q} found ${r.members.length} members, expected ${rows}`);
  };
  await closedLoop(1, 20, () => page());
  const pages = await closedLoop(1, USAGE_REQUESTS, () => page());
  await closedLoop(1, 20, (i) => search(i));
  const searches = await closedLoop(1, USAGE_REQUESTS, (i) => search(i));
  const result: TeamUsageResult = {
    teamId,
    members,
    membersWithUsage: withUsage,
    pageSize: USAGE_PAGE,
    pages: summarize(pages),
    search: summarize(searches),
  };
  log(
    `team usage (${label}), ${members} members, ${withUsage} with a usage row: pages p50 ${result.pages.p50Ms} ms, ` +
      `p99 ${result.pages.p99Ms} ms; searches p50 ${result.search.p50Ms} ms, p99 ${result.search.p99Ms} ms` +
      (pages.errors + searches.errors ? `; ERRORS: ${[...pages.errorSamples, ...searches.errorSamples][0]}` : ''),
  );
  return result;
}

/**
 * Path A for longer than the lease TTL on SUSTAINED_COUNT members, round robin with 50 callers: each member's
 * first consumption asks its workflow for a lease, the API gives that lease back a second before it expires and
 * takes the next in the same Update, and after the load the workflows' timers settle the last leases at their
 * expiry (waited for). Every Update, activity and timer of those runs, counted from their fetched histories
 * (continue-as-new followed), divided by the consumptions: the amortized Temporal cost of a consumption.
 */
async function measureSustained(ctx: {
  client: Client;
  db: Knex;
  cpu: CpuMeter;
  members: { teamId: string; userId: string }[];
  consume: (m: { teamId: string; userId: string }, requestId: string) => Promise<void>;
  usageUnderLoad: () => Promise<TeamUsageResult>;
}): Promise<SustainedResult> {
  const { client, db, cpu, members } = ctx;
  const ids = members.map((m) => memberWorkflowId(m.teamId, m.userId));
  await waitForQuietHistory(client, ids, { log });
  const markers = await inPool(ids, 20, (id) => markHistory(client, id));
  const teamId = members[0].teamId;
  const began = new Date();
  log(
    `sustained: ${members.length} members, ${SUSTAINED_CALLERS} callers, ${formatDuration(SUSTAINED_LOAD_MS)} of ` +
      `load (lease TTL ${formatDuration(LEASE_TTL_MS)}), then until every lease is settled at its expiry…`,
  );
  const leaseCounts = async () =>
    (
      await db.raw(
        `select count(*)::int as granted,
                count(*) filter (where status = 'active')::int as active,
                count(*) filter (where status = 'active' and expires_at > now())::int as live,
                count(*) filter (where status = 'closed' and closed_at < expires_at)::int as returned,
                count(*) filter (where status = 'closed' and closed_at >= expires_at)::int as expired,
                extract(epoch from max(expires_at) filter (where status = 'active' and expires_at > now())) * 1000
                  as last_expiry
           from budget_leases where team_id = ? and created_at >= ?`,
        [teamId, began],
      )
    ).rows[0] as {
      granted: number;
      active: number;
      live: number;
      returned: number;
      expired: number;
      last_expiry: number | null;
    };
  cpu.start();
  // Information only: a failure here is reported, and the sustained run goes on.
  const usageRun = sleep(60_000)
    .then(() => ctx.usageUnderLoad())
    .catch((err: unknown) => {
      log(`  team usage during the load failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
  const phase = await closedLoopFor(
    SUSTAINED_CALLERS,
    SUSTAINED_LOAD_MS,
    (i) => ctx.consume(members[i % members.length], `sustained.${i}`),
    {
      progressMs: PROGRESS_MS,
      onProgress: (done, errors) =>
        void leaseCounts().then((l) =>
          log(
            `  sustained: ${done} consumptions after ${formatDuration(Date.now() - began.getTime())}` +
              `${errors ? `, ${errors} errors` : ''}; leases granted ${l.granted}, closed before expiry ${l.returned}`,
          ),
        ),
    },
  );
  const cpuSecondsLoad = cpu.stop();
  const loadEnded = Date.now();
  const teamUsageUnderLoad = await usageRun;
  log(
    `sustained load: ${phase.ops} consumptions, p50 ${summarize(phase).p50Ms} ms, p99 ${summarize(phase).p99Ms} ms, ` +
      `${summarize(phase).throughputPerS}/s, ${phase.errors} errors; waiting for the leases to expire and settle…`,
  );
  cpu.start();
  let saidAt = Date.now();
  let lastExpiry = loadEnded;
  for (;;) {
    const l = await leaseCounts();
    if (l.live === 0) break;
    lastExpiry = Number(l.last_expiry);
    if (Date.now() - lastExpiry > STALL_MS) throw new Error(`sustained: ${l.live} leases outlived their expiry`);
    if (Date.now() - saidAt >= PROGRESS_MS) {
      saidAt = Date.now();
      log(
        `  sustained: ${l.live} leases still out; the last expires in ` +
          `${formatDuration(Math.max(0, lastExpiry - Date.now()))}`,
      );
    }
    await sleep(1000);
  }
  // The workflows' timers fire at the expiry and settle the leases: once that has begun, until they are done.
  await sleep(Math.max(0, lastExpiry + 5_000 - Date.now()));
  await waitForQuietHistory(client, ids, { log });
  const cpuSecondsAfter = cpu.stop();
  const waitAfterLoadS = Math.round((Date.now() - loadEnded) / 1000);
  const counts = await inPool(markers, 10, (m) => eventsSince(client, m));
  const byType: Record<string, number> = {};
  for (const c of counts) for (const [k, v] of Object.entries(c.byType)) byType[k] = (byType[k] ?? 0) + v;
  const leases = await leaseCounts();
  const toWorkflow = (
    await db.raw(
      `select count(*)::int as n from ledger_entries
        where team_id = ? and kind = 'consume' and request_id like 'sustained.%' and lease_id is null`,
      [teamId],
    )
  ).rows[0].n as number;
  const load = summarize(phase);
  const consumptions = phase.ops - phase.errors;
  const actions = actionsIn(byType);
  const cpuMsPerConsumption = Object.fromEntries(
    Object.keys(cpuSecondsLoad).map((k) => [
      k,
      round((((cpuSecondsLoad[k] ?? 0) + (cpuSecondsAfter[k] ?? 0)) * 1000) / consumptions, 3),
    ]),
  );
  const result: SustainedResult = {
    teamId,
    members: members.length,
    callers: SUSTAINED_CALLERS,
    loadS: Math.round(phase.wallMs / 1000),
    leaseTtlS: LEASE_TTL_MS / 1000,
    load,
    errorSamples: phase.errorSamples,
    consumptionsPerMemberPerS: round(consumptions / members.length / (phase.wallMs / 1000), 3),
    toWorkflow,
    leasesGranted: leases.granted,
    leasesReturned: leases.returned,
    leasesExpired: leases.expired,
    leasesLeftActive: leases.active,
    waitAfterLoadS,
    history: {
      workflows: ids.length,
      runs: counts.reduce((a, c) => a + c.runs, 0),
      events: counts.reduce((a, c) => a + c.events, 0),
      byType: Object.fromEntries(Object.entries(byType).sort((a, b) => b[1] - a[1])),
      updates: byType.workflowExecutionUpdateAccepted ?? 0,
      activities: byType.activityTaskScheduled ?? 0,
      timers: byType.timerStarted ?? 0,
      actions,
    },
    temporalActionsPerConsumption: round(actions / consumptions, 4),
    cpuSecondsLoad,
    cpuSecondsAfter,
    cpuMsPerConsumption,
    teamUsageUnderLoad,
  };
  log(
    `sustained: ${actions} actions (${result.history.updates} Updates, ${result.history.activities} activities, ` +
      `${result.history.timers} timers) for ${consumptions} consumptions: ${result.temporalActionsPerConsumption} ` +
      `per consumption; leases granted ${leases.granted}, closed before expiry ${leases.returned}, settled at ` +
      `expiry ${leases.expired}, never closed ${leases.active}`,
  );
  return result;
}

/**
 * 1,000 members whose periods end at the same instant. A billing date is 00:00 UTC, so a period cannot be made
 * to end a few seconds from now; instead each member's workflow is started with the state a run holds at the
 * end of its period (carried snapshot: the previous period, its grant and some use already in the ledger and the
 * usage row, no lease out), all with a delayed start at one instant T. At T the server hands the worker 1,000
 * first workflow tasks at once, as it hands out 1,000 timers firing on a billing date; each run closes the period
 * (expiry row), opens the next (grant row) and continues as new, and the new run writes both rows. Measured from
 * T until every grant and every expiry of the renewal is in the ledger.
 */
async function measureRenewal(
  client: Client,
  db: Knex,
  members: MemberIdentity[],
  startRatePerS: number,
  cpu: CpuMeter,
): Promise<RenewalResult> {
  log(`renewal: seeding ${members.length} members with a period that ended at the last billing date…`);
  const { current, previous, carried } = await seedEndedPeriods(db, members, {
    anchorDay: ANCHOR_DAY,
    concurrency: 10,
    runId: 'bench-seed',
  });
  // Twice the time the setup's starts took per member, so that every start reaches the server before T.
  const leadMs = Math.round(3_000 + ((2 * members.length) / startRatePerS) * 1000);
  const instant = Date.now() + leadMs;
  log(`renewal: starting ${members.length} members, all runnable at ${new Date(instant).toISOString()}…`);
  let lateStarts = 0;
  await inPool(members, 50, async (m) => {
    const workflowId = memberWorkflowId(m.teamId, m.userId);
    await startOnce(`renewal start ${workflowId}`, () =>
      client.workflow.start(memberCreditsWorkflow, {
        workflowId,
        taskQueue: REAL_QUEUE,
        args: [{ ...m, carried: carried.get(workflowId) }],
        startDelay: Math.max(1, instant - Date.now()),
      }),
    );
    if (Date.now() > instant) lateStarts++;
  });
  if (lateStarts > 0) {
    log(`  renewal: ${lateStarts} starts reached the server after the instant (a busy machine): an upper bound`);
  }
  await sleep(Math.max(0, instant - Date.now()));
  cpu.start();
  const marks = { first: NaN, half: NaN, p90: NaN, allGrants: NaN, allExpiries: NaN };
  let movedAt = Date.now();
  let saidAt = Date.now();
  let last = '';
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
    if (`${grants}/${expiries}` !== last) {
      last = `${grants}/${expiries}`;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt > STALL_MS) {
      throw new Error(`renewal stuck at ${grants} grants, ${expiries} expiries for ${STALL_MS / 60_000} min`);
    }
    if (Date.now() - saidAt >= PROGRESS_MS) {
      saidAt = Date.now();
      log(`  renewal: ${grants} grants, ${expiries} expiries of ${members.length} after ${formatDuration(t)}`);
    }
    await sleep(25);
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
  log(`renewal: all grants after ${marks.allGrants} ms, all expiries after ${marks.allExpiries} ms`);
  return {
    members: members.length,
    periodEnd: new Date(previous.end).toISOString(),
    instant: new Date(instant).toISOString(),
    newPeriodStart: new Date(current.start).toISOString(),
    lateStarts,
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
    'cached token auth, LeaseHolder: one PostgreSQL transaction from the lease the API holds, or one consume ' +
    'Update when no lease covers it). B: MemberCredits.consume in the load generator, wired as the API wires it ' +
    '(its own LeaseHolder and pool of 10): A − B is HTTP + auth. C: executeUpdate on a running bare workflow ' +
    'whose handler returns null (the payload of a consume Update), the least any consumption that goes to its ' +
    'workflow costs. D: one PostgreSQL transaction: UPDATE balance … WHERE allowance - used >= n RETURNING, then ' +
    'INSERT into ledger_entries, COMMIT (pg pool of 10, prepared statements).',
  scenarios:
    'hot: every operation goes to one member (A and B each have their own hot member, C its own bare workflow, ' +
    'D its own balance row); 1,000 members: operation i goes to member i mod 1,000; the warm-up is one ' +
    'consumption per member (it asks the workflow for the lease, timed and reported apart), the measured phase ' +
    '20 per member. A and B each have their own 1,000 members (a second holder on a member takes its lease ' +
    'back: measured apart as two-holders). Consumptions are 0.01 credits: nobody nears the 75 % threshold, ' +
    'leases serve until they expire.',
  twoHolders:
    'One member, consumptions alternating between A (the API) and B (the in-process holder), 10 callers: two API ' +
    'instances serving the same member.',
  measurement:
    'Closed loop: N callers each start their next operation when the previous one answers. Warm-up operations ' +
    'run first with the same concurrency and are excluded; then a fixed number of operations is timed one by one ' +
    '(performance.now around the call). Throughput = measured operations / wall time of the measured phase. ' +
    'Percentiles are nearest-rank. Order in each scenario: C, A, B, D. "to wf" = measured consumptions whose ' +
    'ledger row carries no lease id (the workflow decided them); "leases" = leases created during the phase.',
  history:
    'After the warm-up, once the histories are quiet, the run id and event count are noted; after the measured ' +
    'phase (quiet again) the histories are fetched, walking back through continue-as-new, and the new events ' +
    'divided by the operations that went to those workflows. Actions = Updates accepted + activities scheduled ' +
    '+ timers started.',
  sustained:
    'Path A, 300 members, 50 callers, round robin, for the lease TTL + 60 s; then until every lease of the team ' +
    'is closed (the workflows settle the last ones at expiry) and the histories are quiet. Every history event ' +
    'since a marker taken before the load is counted (continue-as-new followed); temporalActionsPerConsumption ' +
    '= (Updates accepted + activities scheduled + timers started) / consumptions. CPU per consumption covers the ' +
    'load and the wait for the expiries.',
  reconciliation:
    'After the sustained run: reconcileMember (src/credits/reconcile.ts: workflow state + open leases = usage row ' +
    '= ledger) for the hot and two-holder members, 50 of each 1,000 and every sustained member.',
  teamUsage:
    'GET /v1/teams/{team}/usage with an admin member token, one caller: 1,000 pages of 100 rows walking the ' +
    '1,000-member team with nextCursor, then 1,000 ?q= searches (exact user id, user id prefix, email domain), 20 ' +
    'untimed first; after setup, with no bench load (every member has its grant usage row; the target), and again ' +
    'during the sustained load (information).',
  cpu: 'utime + stime from /proc/<pid>/stat for each process (PostgreSQL: postmaster and its backends) over the measured phase; B runs in the load generator.',
  memory:
    'VmRSS from /proc/<pid>/status of each child process at the marked moments; peak = max(VmHWM, 250 ms samples).',
  renewal:
    'See measureRenewal in bench/run.ts: 1,000 members with a carried state (no lease out) whose period ended at ' +
    'the last billing date, started with one delayed-start instant; time from that instant until all 1,000 grant ' +
    'and expiry rows are in the ledger (polled every 25 ms).',
};

// A promise nobody awaits (a progress report) that fails: said, not fatal (Node would exit at once and skip the
// cleanup). After the first error, it is what the cleanup broke, not the cause.
// A rejection nobody awaited is logged and fails the run (its figures may miss what that work did).
let unhandled = false;
process.on('unhandledRejection', (err) => {
  unhandled = true;
  const when = firstError === undefined ? '' : ' (during the cleanup, after the first error)';
  log(`unhandled rejection${when}: ${firstError === undefined ? describeError(err) : String(err)}`);
});

main().then(
  (code) => process.exit(code === 0 && unhandled ? 1 : code),
  (err) => {
    console.error(`[bench] first error: ${describeError(firstError ?? err)}`);
    process.exit(1);
  },
);
