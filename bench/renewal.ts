/**
 * `npm run bench:renewal`: what one renewal costs, per member and per process, with nothing else running. Starts
 * its own stack (PostgreSQL with pg_stat_statements, a Temporal dev server, one worker; data under
 * `.data/bench-renewal/`), seeds `RENEWAL_MEMBERS` members (default 300) with the state a run holds at the end of
 * its period (as `measureRenewal` in bench/run.ts and the soak do: grant and some use in the ledger, no lease out),
 * starts their workflows with one delayed-start instant T, and measures from T:
 *
 * - CPU by process (utime + stime from /proc) until every expiry and grant is in the ledger and the histories
 *   are quiet, minus what the same processes burn idle over as long (measured after);
 * - history events by type, workflow tasks, activities by type and timers of a sample of members, every run of
 *   the renewal counted (continue-as-new followed back to the first run);
 * - PostgreSQL statements of the service database (pg_stat_statements, the bench's own polling left out) and
 *   transactions committed.
 *
 * Then the floor, in the same run and on the same server: as many bare workflows (`floorRenewalWorkflow`,
 * bench/floor/workflows.ts: the period timer, continue-as-new with the same input, the next run's timer) through
 * the same billing date on their own worker, measured the same way; the ratio renewal/floor says how much of the
 * renewal is the member workflow's own work and how much is what one workflow per member per period costs
 * Temporal at the least.
 *
 * And the other shape of one workflow per member per period, priced the same way on the floor worker, for the
 * capacity model (docs/capacity.md): a run's first task alone (every run above starts at T after its period end, so
 * each includes one); a run that ends at its period end instead of continuing as new; the next period's run
 * started by the member's first request (an update-with-start), beside the same Update to a running run.
 *
 * Results in `bench/results/renewal-latest.json` (with the load average). Not a throughput figure: the machine may
 * be shared, read CPU per member, not wall time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { createDb, migrateLatest } from '../src/db/knex';
import { PlanCatalogue } from '../src/plans';
import { connectClient, plainText, plainTextEnv, temporalSettings } from '../src/temporal/connection';
import { LocalStack } from '../tools/local-stack';
import { stopListWithSignals } from '../tools/procs';
import { memberWorkflowId } from '../workflows/ids';
import type { MemberIdentity } from '../workflows/member-credits/types';
import { memberCreditsWorkflow } from '../workflows/member-credits/workflow';
import {
  bareUpdate,
  type FloorPeriod,
  floorEndingWorkflow,
  floorRenewalWorkflow,
  floorStartedOnUseWorkflow,
} from './floor/workflows';
import { CpuMeter, inPool, round } from './load';
import { seedEndedPeriods } from './seed';
import { root, startChild } from './stack';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

const dataDir = path.resolve(process.env.AI_CREDITS_BENCH_DATA ?? path.join(root, '.data', 'bench-renewal'));
const MEMBERS = Number(process.env.RENEWAL_MEMBERS ?? '300');
const SAMPLE = Math.min(MEMBERS, 20);
const QUEUE = 'bench-renewal';
const FLOOR_QUEUE = 'bench-renewal-floor';
const TEAM = 'bench-renewal';
const ANCHOR_DAY = 1;
const began = Date.now();
const log = (msg: string) => console.log(`[renewal ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL = `/* renewal-bench */ select count(*) filter (where kind = 'grant' and period_start = ?) as grants,
  count(*) filter (where kind = 'expire' and period_start = ?) as expiries from ledger_entries where team_id = ?`;

async function main(): Promise<void> {
  const { stops, stopAll } = stopListWithSignals('renewal bench', log);
  try {
    const loadAtStart = os.loadavg();
    const stack = await LocalStack.start({
      dataDir,
      log,
      postgres: {
        port: 0,
        database: 'ai_credits_bench',
        fresh: true,
        settings: {
          max_connections: '200',
          shared_preload_libraries: 'pg_stat_statements',
          'pg_stat_statements.track': 'all',
        },
      },
      temporal: { port: 0, fresh: true },
      smtp: { port: 0 },
    });
    stops.push(() => stack.stop());
    const db = createDb(stack.databaseUrl, { max: 5 });
    stops.push(() => db.destroy());
    await migrateLatest(db);
    await db.raw('create extension if not exists pg_stat_statements');
    const plans = PlanCatalogue.load();
    const plan = plans.get('basic')!;
    await db('teams').insert({ team_id: TEAM, plan: 'basic', billing_anchor_day: ANCHOR_DAY, currency: plan.currency });
    const members: MemberIdentity[] = Array.from({ length: MEMBERS }, (_, i) => ({
      teamId: TEAM,
      userId: `r${String(i).padStart(4, '0')}`,
      billingAnchorDay: ANCHOR_DAY,
      plan,
    }));
    await db('members').insert(
      members.map((m) => ({
        team_id: m.teamId,
        user_id: m.userId,
        email: `${m.userId}@example.com`,
        roles: ['member'],
      })),
    );

    const common = { ...plainTextEnv(process.env, stack.temporalAddress), TEMPORAL_NAMESPACE: 'default' };
    const worker = await startChild({
      name: 'worker',
      script: 'src/worker.ts',
      env: { ...common, DATABASE_URL: stack.databaseUrl, SMTP_URL: stack.smtpUrl, TEMPORAL_TASK_QUEUE: QUEUE },
      logFile: path.join(dataDir, 'worker.log'),
      ready: /worker polling task queue/,
      // For profiling only: BENCH_PROFILE=1 writes a V8 CPU profile of the worker to .data/bench-renewal/profiles/.
      nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(dataDir, 'profiles')] : [],
      log,
    });
    stops.push(worker.stop);
    const connection = await connectClient(plainText(temporalSettings()), stack.temporalAddress);
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const cpu = new CpuMeter([
      { name: 'worker', pid: worker.pid },
      { name: 'Temporal server', pid: stack.temporal!.pid },
      { name: 'PostgreSQL', pid: stack.postgres!.pid!, tree: true },
    ]);

    // ---- seed: the state at the end of the previous period, its rows in the ledger ----
    const { current, previous, carried } = await seedEndedPeriods(db, members, {
      anchorDay: ANCHOR_DAY,
      concurrency: 5,
      runId: 'bench-seed',
    });
    log(`seeded ${MEMBERS} members whose period ended at ${new Date(previous.end).toISOString()}`);

    // ---- start, all runnable at T ----
    await startAtOneInstant(async (i, startDelay) => {
      const m = members[i];
      const workflowId = memberWorkflowId(m.teamId, m.userId);
      await client.workflow.start(memberCreditsWorkflow, {
        workflowId,
        taskQueue: QUEUE,
        args: [{ ...m, carried: carried.get(workflowId) }],
        startDelay,
      });
    });

    // ---- measure from T ----
    await db.raw('select pg_stat_statements_reset()');
    const xactBefore = await xactCommit(db);
    const loadAtT = os.loadavg();
    const renewal = await cpuPerMember(
      cpu,
      async () => {
        const row = await poll(db, current.start, previous.start);
        return row.grants >= MEMBERS && row.expiries >= MEMBERS
          ? true
          : `${row.grants} grants, ${row.expiries} expiries`;
      },
      // Trailing workflow tasks: wait for quiet histories of the sample.
      () =>
        quiet(
          client,
          members.slice(0, SAMPLE).map((m) => memberWorkflowId(m.teamId, m.userId)),
        ),
    );
    const xactAfter = await xactCommit(db);
    const statements = (
      await db.raw(
        `select calls::int, query from pg_stat_statements s join pg_database d on d.oid = s.dbid
          where d.datname = current_database() and query not like '%renewal-bench%'
            and query not like '%pg_stat_statements%' and query not like '%pg_stat_database%'
          order by calls desc`,
      )
    ).rows as { calls: number; query: string }[];
    const loadAtEnd = os.loadavg();
    log(`renewal: ${describeCpu(renewal.perMember)}`);

    // ---- the floor: the same number of bare workflows through the same billing date, their own worker ----
    const history = await histories(client, members.slice(0, SAMPLE));
    await worker.stop();
    const floorWorker = await startChild({
      name: 'floor worker',
      script: 'bench/floor/worker.ts',
      env: { ...common, TEMPORAL_TASK_QUEUE: FLOOR_QUEUE },
      logFile: path.join(dataDir, 'floor-worker.log'),
      ready: /worker polling task queue/,
      log,
    });
    stops.push(floorWorker.stop);
    const floorCpu = new CpuMeter([
      { name: 'worker', pid: floorWorker.pid },
      { name: 'Temporal server', pid: stack.temporal!.pid },
      { name: 'PostgreSQL', pid: stack.postgres!.pid!, tree: true },
    ]);
    const carriedOf = (i: number) => carried.get(memberWorkflowId(members[i].teamId, members[i].userId));
    // Each shape below is a set of bare workflows, one per member, measured like the renewal: started with the
    // instant T as their delayed start ('at T'), or started or updated from here from T on, 20 requests at a time
    // ('requests'); CPU per member until `done` (for requests: until every one is answered), the load average at
    // T and at the end.
    const shape = async (
      name: string,
      ids: string[],
      how: 'at T' | 'requests',
      start: (i: number, startDelay?: number) => Promise<void>,
      done?: () => Promise<true | string>,
    ) => {
      let answered = 0;
      const allAnswered = async () => (answered >= ids.length ? true : `${answered} of ${ids.length} answered`);
      if (how === 'at T') await startAtOneInstant(start);
      const atT = os.loadavg();
      const measured = cpuPerMember(floorCpu, done ?? allAnswered, () => quiet(client, ids.slice(0, SAMPLE)));
      if (how === 'requests') await inPool(ids, 20, (_, i) => start(i).then(() => void answered++));
      const result = { ...(await measured), loadAverage: { atT, atEnd: os.loadavg() } };
      log(`${name}: ${describeCpu(result.perMember)}`);
      return result;
    };
    /** Starts bare workflow i of `ids` with its period ending at `periodEnd` (and the member's carried bytes). */
    const startBare =
      (workflow: (period: FloorPeriod) => Promise<void>, ids: string[], periodEnd: number) =>
      async (i: number, startDelay?: number) => {
        await client.workflow.start(workflow, {
          workflowId: ids[i],
          taskQueue: FLOOR_QUEUE,
          args: [{ periodEnd, carried: carriedOf(i) }],
          startDelay,
        });
      };
    const ended = (type: string, status: 'ContinuedAsNew' | 'Completed') => async () => {
      const { count } = await client.workflow.count(`WorkflowType = '${type}' AND ExecutionStatus = '${status}'`);
      return count >= MEMBERS ? true : `${count} ${type} runs ${status}`;
    };

    // The floor of today's shape: the period timer, continue-as-new, the next run's timer.
    const floorIds = members.map((m) => `bench-renewal-floor/${m.userId}`);
    const floor = await shape(
      'floor',
      floorIds,
      'at T',
      startBare(floorRenewalWorkflow, floorIds, previous.end),
      ended('floorRenewalWorkflow', 'ContinuedAsNew'),
    );

    // ---- the other shape, priced on the same worker ----
    // (1) the first task alone: a run started at T whose period ends a month later. Every measurement above starts
    //     its runs at T after their period end, so each includes one such task (a worker that no longer holds the
    //     run in its cache pays about as much at a billing date: it replays the history first).
    const firstIds = members.map((m) => `bench-renewal-first/${m.userId}`);
    // Running either way, so done when a sample spread over them all has the first task's five events.
    const spread = Array.from({ length: SAMPLE }, (_, k) => firstIds[Math.floor((k * MEMBERS) / SAMPLE)]);
    const firstTask = await shape(
      'first task only',
      spread,
      'at T',
      startBare(floorEndingWorkflow, firstIds, current.end),
      async () => {
        const d = await Promise.all(spread.map((id) => client.workflow.getHandle(id).describe()));
        const started = d.filter((x) => (x.historyLength ?? 0) >= 5).length;
        return started === SAMPLE ? true : `${started} of ${SAMPLE} sampled first tasks done`;
      },
    );
    // (2) the run ends at its period end: the period timer's task completes it; nothing else at the instant.
    const endingIds = members.map((m) => `bench-renewal-ending/${m.userId}`);
    const ending = await shape(
      'ending at the period end',
      endingIds,
      'at T',
      startBare(floorEndingWorkflow, endingIds, previous.end),
      ended('floorEndingWorkflow', 'Completed'),
    );
    // (3) the next period's run started by the member's first request (an update-with-start), and (4) for
    //     comparison the same Update to the run once it is running (what a request costs today).
    const usedIds = members.map((m) => `bench-renewal-used/${m.userId}`);
    const startOnUse = await shape('started on use (update-with-start)', usedIds, 'requests', async (i) => {
      await client.workflow.executeUpdateWithStart(bareUpdate, {
        args: [carriedOf(i)],
        startWorkflowOperation: new WithStartWorkflowOperation(floorStartedOnUseWorkflow, {
          workflowId: usedIds[i],
          taskQueue: FLOOR_QUEUE,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [{ periodEnd: current.end, carried: carriedOf(i) }],
        }),
      });
    });
    const updateRunning = await shape('the same Update to the running run', usedIds, 'requests', async (i) => {
      await client.workflow.getHandle(usedIds[i]).executeUpdate(bareUpdate, { args: [carriedOf(i)] });
    });

    // ---- histories of the sample ----
    const totalCalls = statements.reduce((a, s) => a + s.calls, 0);
    const result = {
      date: new Date().toISOString(),
      commit: process.env.GIT_COMMIT ?? null,
      machine: { cpus: os.cpus().length, loadAverage: { atStart: loadAtStart, atT: loadAtT, atEnd: loadAtEnd } },
      members: MEMBERS,
      renewedMs: renewal.doneMs,
      measuredMs: renewal.busyMs,
      cpuSeconds: renewal.busySeconds,
      idleCpuSeconds: renewal.idleSeconds,
      cpuMsPerMember: renewal.perMember,
      historyPerMember: history,
      floor: {
        what: 'the same members as bare workflows (bench/floor/workflows.ts floorRenewalWorkflow): timer, continue-as-new with the same input, the next run starting its timer',
        loadAverage: floor.loadAverage,
        renewedMs: floor.doneMs,
        cpuSeconds: floor.busySeconds,
        idleCpuSeconds: floor.idleSeconds,
        cpuMsPerMember: floor.perMember,
      },
      shapes: {
        what: 'bare workflows on the floor worker (bench/floor/workflows.ts). Every "at T" run starts at T, after its period end, so it includes one first task: firstTask prices it; a worker that no longer caches the run pays about as much (a replay) at a real billing date',
        firstTask: firstTask.perMember,
        endingAtPeriodEnd: ending.perMember,
        startedOnUse: startOnUse.perMember,
        updateToRunningRun: updateRunning.perMember,
        withoutTheFirstTask: {
          renewal: minus(renewal.perMember, firstTask.perMember),
          continueAsNewChain: minus(floor.perMember, firstTask.perMember),
          endingAtPeriodEnd: minus(ending.perMember, firstTask.perMember),
        },
        startOnUseAboveAnUpdate: minus(startOnUse.perMember, updateRunning.perMember),
      },
      renewalToFloor: Object.fromEntries(
        Object.entries(renewal.perMember).map(([k, v]) => [
          k,
          floor.perMember[k] > 0 ? round(v / floor.perMember[k], 2) : null,
        ]),
      ),
      postgres: {
        statementsPerMember: round(totalCalls / MEMBERS, 2),
        transactionsPerMember: round((xactAfter - xactBefore) / MEMBERS, 2),
        byStatement: statements
          .filter((s) => s.calls >= MEMBERS / 10)
          .map((s) => ({ perMember: round(s.calls / MEMBERS, 2), query: s.query.replace(/\s+/g, ' ').slice(0, 160) })),
      },
    };
    mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(root, 'bench', 'results', 'renewal-latest.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify(result, null, 2));
    log(
      `CPU per member: renewal ${describeCpu(renewal.perMember)}; floor ${describeCpu(floor.perMember)}; ` +
        `renewal/floor ${result.renewalToFloor.total}×; ending at the period end ${ending.perMember.total} ms, ` +
        `started on use ${startOnUse.perMember.total} ms (an Update to a running run ${updateRunning.perMember.total} ms), ` +
        `first task ${firstTask.perMember.total} ms; load average ${loadAtT.map((l) => l.toFixed(2)).join(' ')} ` +
        `at T, ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end`,
    );
  } finally {
    await stopAll();
  }
}

/** a − b by process, rounded. */
const minus = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, round(v - (b[k] ?? 0), 1)]));

const describeCpu = (perMember: Record<string, number>) =>
  Object.entries(perMember)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ');

/**
 * Starts MEMBERS workflows (`start(i, startDelay)`) with one delayed-start instant T, the lead long enough for all
 * the starts, and waits for T.
 */
async function startAtOneInstant(start: (i: number, startDelayMs: number) => Promise<void>): Promise<void> {
  const instant = Date.now() + 15_000 + MEMBERS * 100;
  await inPool(
    Array.from({ length: MEMBERS }, (_, i) => i),
    20,
    (i) => start(i, Math.max(1, instant - Date.now())),
  );
  if (Date.now() > instant - 1000) throw new Error('the starts took longer than the lead; rerun');
  await sleep(instant - Date.now());
}

/**
 * CPU per member by process from now (T) until `done()` says so (or what it is waiting for) and `settled()`
 * returns, plus 2 s, minus what the same processes burn idle over as long (measured after, with the same polling).
 */
async function cpuPerMember(
  cpu: CpuMeter,
  done: () => Promise<true | string>,
  settled: () => Promise<void>,
): Promise<{
  perMember: Record<string, number>;
  busySeconds: Record<string, number>;
  idleSeconds: Record<string, number>;
  busyMs: number;
  doneMs: number;
}> {
  cpu.start();
  const t0 = Date.now();
  for (;;) {
    const state = await done();
    if (state === true) break;
    if (Date.now() - t0 > 600_000) throw new Error(`stuck at ${state}`);
    await sleep(250);
  }
  const doneMs = Date.now() - t0;
  await settled();
  await sleep(2_000);
  const busySeconds = cpu.stop();
  const busyMs = Date.now() - t0;
  cpu.start();
  const idleStarted = Date.now();
  while (Date.now() - idleStarted < Math.min(busyMs, 20_000)) {
    await done();
    await sleep(250);
  }
  const idleSeconds = cpu.stop();
  const idleMs = Date.now() - idleStarted;
  const perMember: Record<string, number> = {};
  let total = 0;
  for (const name of ['worker', 'Temporal server', 'PostgreSQL']) {
    const net = busySeconds[name] - (idleSeconds[name] * busyMs) / idleMs;
    perMember[name] = round((net * 1000) / MEMBERS, 1);
    total += perMember[name];
  }
  perMember.total = round(total, 1);
  return { perMember, busySeconds, idleSeconds: { ...idleSeconds, overMs: idleMs }, busyMs, doneMs };
}

async function poll(db: ReturnType<typeof createDb>, currentStart: number, previousStart: number) {
  const row = (await db.raw(POLL, [new Date(currentStart), new Date(previousStart), TEAM])).rows[0] as {
    grants: string;
    expiries: string;
  };
  return { grants: Number(row.grants), expiries: Number(row.expiries) };
}

async function xactCommit(db: ReturnType<typeof createDb>): Promise<number> {
  const row = (await db.raw('select xact_commit::bigint as n from pg_stat_database where datname = current_database()'))
    .rows[0] as { n: string };
  return Number(row.n);
}

async function quiet(client: Client, workflowIds: string[]): Promise<void> {
  const lengths = async () =>
    (
      await Promise.all(
        workflowIds.map(async (id) => {
          const d = await client.workflow.getHandle(id).describe();
          return `${d.runId}:${d.historyLength}`;
        }),
      )
    ).join(',');
  let before = await lengths();
  for (;;) {
    await sleep(1_000);
    const after = await lengths();
    if (after === before) return;
    before = after;
  }
}

/** Every run since the delayed start, per member on average: events by type, tasks, activities, timers. */
async function histories(client: Client, members: MemberIdentity[]) {
  const byType: Record<string, number> = {};
  const activities: Record<string, number> = {};
  let events = 0;
  let runs = 0;
  let inputBytes = 0;
  for (const m of members) {
    const id = memberWorkflowId(m.teamId, m.userId);
    let runId: string | undefined = (await client.workflow.getHandle(id).describe()).runId;
    while (runId) {
      const h: History = await client.workflow.getHandle(id, runId).fetchHistory();
      const list: HistoryEvent[] = h.events ?? [];
      runs++;
      events += list.length;
      for (const e of list) {
        const name = typeName(e as Record<string, unknown>);
        byType[name] = (byType[name] ?? 0) + 1;
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type) activities[type] = (activities[type] ?? 0) + 1;
        for (const p of e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []) {
          inputBytes += p.data?.length ?? 0;
        }
      }
      runId = list[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    }
  }
  const per = (n: number) => round(n / members.length, 2);
  return {
    sample: members.length,
    events: per(events),
    runs: per(runs),
    workflowTasks: per(byType.workflowTaskCompleted ?? 0),
    activities: Object.fromEntries(Object.entries(activities).map(([k, v]) => [k, per(v)])),
    timersStarted: per(byType.timerStarted ?? 0),
    startInputBytes: per(inputBytes),
    byType: Object.fromEntries(Object.entries(byType).map(([k, v]) => [k, per(v)])),
  };
}

function typeName(e: Record<string, unknown>): string {
  for (const [key, value] of Object.entries(e)) {
    if (value != null && key.endsWith('EventAttributes')) return key.slice(0, -'EventAttributes'.length);
  }
  return 'unknown';
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('[renewal] failed:', err);
    process.exit(1);
  },
);
