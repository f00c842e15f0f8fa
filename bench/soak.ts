/**
 * `npm run soak`: a busy day against the production topology (`npm run cluster`, read from
 * `.data/cluster/cluster.json`), or against any API_URL + DATABASE_URL + Temporal (TEMPORAL_ADDRESS and its
 * TLS settings) + PROVISIONING_TOKEN given in the environment.
 *
 * 1. 20 teams (plan basic, billing day 1) and SOAK_MEMBERS members (default 10,000) through the API; an agent
 *    token per team and a Billing member per team.
 * 2. The day: SOAK_OPS_PER_MEMBER operations a member (default 1) from SOAK_AGENTS concurrent agents through the
 *    round-robin: consumptions, reservations (settled or released), PAYG toggles, purchases; a few heavy members
 *    take a fifth of the work, so allowances run out, PAYG pays and refusals happen. Half-way, one worker and one
 *    API instance are killed (SIGKILL) and started again by the cluster. A client retries what it did not get an
 *    answer to (502, connection reset) with the same id, as the API's contract says.
 * 3. Every member's records written, then the reconciliation check (src/credits/reconcile.ts) over every member,
 *    and what the clients were told against the ledger: `lost` (told charged, not in the ledger), `duplicated`
 *    (in the ledger more than told), `overspent` (credits used past allowance + purchases).
 * 4. SOAK_RENEWALS members (default = members) whose periods end at one instant (see `renew`; with
 *    SOAK_KILL_IN_RENEWAL=1 worker-2 is SIGKILLed a third of the way through), the time until
 *    every one has its new grant and expiry and has continued as new, and the reconciliation over them.
 * 5. The renewal's floor: as many bare workflows through the same billing date on the same Temporal (see
 *    `renewalFloor`), measured the same way, so `renewalCpuMsPerMember` is printed beside what one workflow per
 *    member per period costs with none of the member workflow's own work.
 * Results: bench/results/soak-latest.json (machine described) and a summary printed. Exit 1 on any difference.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { status as grpcStatus } from '@grpc/grpc-js';
import { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { reconcileMember } from '../src/credits/reconcile';
import { createDb } from '../src/db/knex';
import { PlanCatalogue } from '../src/plans';
import { connectClient, temporalSettings } from '../src/temporal/connection';
import { grpcCode } from '../src/temporal/member-client';
import { clusterDataDir, readClusterState, type ClusterState } from '../tools/cluster';
import { periodContaining, previousPeriod } from '../workflows/domain/periods';
import { memberWorkflowId, DEFAULT_TASK_QUEUE } from '../workflows/ids';
import type { MemberIdentity } from '../workflows/member-credits/types';
import { memberCreditsWorkflow } from '../workflows/member-credits/workflow';
import { floorRenewalWorkflow } from './floor/workflows';
import { inPool, percentile, round } from './load';
import { seedEndedPeriods } from './seed';
import { type ChildService, startChild } from './stack';

const started = Date.now();
const log = (msg: string) => console.log(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const root = path.resolve(__dirname, '..');

const int = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const MEMBERS = int('SOAK_MEMBERS', 10_000);
const TEAMS = Math.min(int('SOAK_TEAMS', 20), MEMBERS);
const OPS_PER_MEMBER = int('SOAK_OPS_PER_MEMBER', 1);
const AGENTS = int('SOAK_AGENTS', 48);
const RENEWALS = int('SOAK_RENEWALS', MEMBERS);
const PLAN = 'basic';
const ANCHOR_DAY = 1;
/** How long a client keeps retrying one request during the day before setting it aside (then resolved after). */
const ANSWER_WAIT_MS = int('SOAK_ANSWER_WAIT_S', 120) * 1000;
const RUN = (process.env.SOAK_RUN ?? Date.now().toString(36)).replace(/[^a-z0-9]/g, '');

// ---- target ----

interface Target {
  apiUrl: string;
  databaseUrl: string;
  provisioningToken: string;
  temporalEnv: NodeJS.ProcessEnv;
  namespace: string;
  cluster?: ClusterState;
}

function target(): Target {
  const cluster = readClusterState();
  if (cluster?.apiUrl && !process.env.API_URL) {
    const tokenFile = cluster.provisioningTokenFile;
    return {
      apiUrl: cluster.apiUrl,
      databaseUrl: cluster.databaseUrl,
      provisioningToken: process.env.PROVISIONING_TOKEN || readFileSync(tokenFile, 'utf8').trim(),
      temporalEnv: cluster.temporalEnv,
      namespace: cluster.namespace,
      cluster,
    };
  }
  const need = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`no cluster running (${clusterDataDir()}/cluster.json) and ${k} is not set`);
    return v;
  };
  return {
    apiUrl: need('API_URL'),
    databaseUrl: need('DATABASE_URL'),
    provisioningToken: need('PROVISIONING_TOKEN'),
    temporalEnv: process.env,
    namespace: temporalSettings().namespace,
  };
}

// ---- HTTP with retries of what got no answer ----

/** No definitive answer within the wait: the operation is sent again later with the same ids. */
class NoAnswer extends Error {}

class Http {
  retries = 0;
  /** 429 answers waited out (a provisioning or billing token over `RATE_LIMIT_PER_MINUTE`). */
  rateLimited = 0;
  constructor(private readonly url: string) {}

  /**
   * Retries 502/503/504 and network errors with the same body (the ids make it idempotent) for up to `waitMs`,
   * and 429 after its Retry-After; anything else is the answer. Past `waitMs`: NoAnswer.
   */
  async call(
    token: string,
    method: string,
    p: string,
    body?: unknown,
    waitMs = ANSWER_WAIT_MS,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read by shape
  ): Promise<{ status: number; body: any }> {
    const deadline = Date.now() + waitMs;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${this.url}${p}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status === 429) {
          // Over the token's rate limit (nothing was done): wait as Retry-After says, then send it again.
          last = '429';
          this.rateLimited++;
          if (Date.now() > deadline) throw new NoAnswer(`${method} ${p}: rate limited for ${waitMs / 1000} s`);
          await sleep(1000 * Math.max(1, Number(res.headers.get('retry-after')) || 1));
          continue;
        }
        if (res.status !== 502 && res.status !== 503 && res.status !== 504) {
          return { status: res.status, body: text ? JSON.parse(text) : null };
        }
        last = `${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new NoAnswer(`${method} ${p}: no answer in ${waitMs / 1000} s (last: ${last})`);
      this.retries++;
      await sleep(Math.min(2000, 100 * attempt));
    }
  }
}

/** "12.5" credits → 12500 millicredits, in integers. */
function millicredits(credits: string): number {
  const [whole, frac = ''] = credits.split('.');
  return Number(whole) * 1000 + Number(frac.padEnd(3, '0').slice(0, 3));
}

/** A small deterministic PRNG (mulberry32), so a run's mix is reproducible by SOAK_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- CPU by process, sampled, following restarts ----

class CpuByProcess {
  private totals = new Map<string, number>();
  private last = new Map<string, { pid: number; s: number }>();
  private timer?: NodeJS.Timeout;
  private selfAtStart = 0;
  constructor(private readonly pids: () => Record<string, { pid: number; tree: boolean }>) {}

  sample(): void {
    for (const [name, { pid, tree }] of Object.entries(this.pids())) {
      const s = tree ? treeCpuSeconds(pid) : cpuSeconds(pid);
      const prev = this.last.get(name);
      if (prev && prev.pid === pid && s >= prev.s) this.totals.set(name, (this.totals.get(name) ?? 0) + s - prev.s);
      if (s > 0) this.last.set(name, { pid, s });
    }
  }
  start(): void {
    this.totals.clear();
    this.last.clear();
    this.sample();
    const self = process.cpuUsage();
    this.selfAtStart = self.user + self.system;
    this.timer = setInterval(() => this.sample(), 1000);
  }
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample();
    const self = process.cpuUsage();
    return {
      ...Object.fromEntries([...this.totals].map(([k, v]) => [k, round(v, 2)])),
      'soak (this process)': round((self.user + self.system - this.selfAtStart) / 1e6, 2),
    };
  }
}

function cpuSeconds(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)) / 100;
  } catch {
    return 0;
  }
}

function treeCpuSeconds(parent: number): number {
  let total = cpuSeconds(parent, true);
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) total += cpuSeconds(Number(entry));
    } catch {
      // gone
    }
  }
  return total;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// ---- the soak ----

interface Member {
  teamId: string;
  userId: string;
  /** Millicredits the API said it charged (consumptions and settlements, allowance + purchased + PAYG). */
  told: number;
  purchasedTold: number;
  heavy: boolean;
}

async function main(): Promise<number> {
  const t = target();
  const http = new Http(t.apiUrl);
  const prov = t.provisioningToken;
  const db = createDb(t.databaseUrl);
  const connection = await connectClient(temporalSettings(t.temporalEnv as NodeJS.ProcessEnv));
  const client = new Client({ connection, namespace: t.namespace });
  const plans = PlanCatalogue.load();
  log(
    `target ${t.apiUrl} (${t.cluster ? `npm run cluster, ${t.cluster.historyShards} history shards` : 'given'}); ` +
      `${MEMBERS} members over ${TEAMS} teams, ${OPS_PER_MEMBER} operations a member, ${AGENTS} agents, ${RENEWALS} renewals; run ${RUN}`,
  );
  const clusterProcesses = () => {
    const out: Record<string, { pid: number; tree: boolean }> = {};
    const state = t.cluster ? readClusterState() : undefined;
    for (const [k, pid] of Object.entries(state?.pids ?? {})) out[k] = { pid, tree: false };
    for (const [k, pid] of Object.entries(state?.treePids ?? {})) out[k] = { pid, tree: true };
    return out;
  };
  const cpu = new CpuByProcess(clusterProcesses);
  const dbBytesBefore = await databaseBytes(db);

  // ---- 1. teams, members, tokens ----
  const setupStarted = performance.now();
  const teams = Array.from({ length: TEAMS }, (_, i) => `soak-${RUN}-t${String(i + 1).padStart(2, '0')}`);
  const agentToken = new Map<string, string>();
  const billingToken = new Map<string, string>();
  await inPool(teams, 4, async (teamId) => {
    const created = await http.call(prov, 'POST', '/v1/teams', { teamId, plan: PLAN, billingAnchorDay: ANCHOR_DAY });
    if (created.status !== 201)
      throw new Error(`creating ${teamId}: ${created.status} ${JSON.stringify(created.body)}`);
    const put = await http.call(prov, 'PUT', `/v1/teams/${teamId}/members/billing`, {
      email: `billing@${teamId}.example`,
      roles: ['billing'],
    });
    if (put.status !== 200) throw new Error(`billing member of ${teamId}: ${put.status}`);
    const tok = async (body: object) => {
      const r = await http.call(prov, 'POST', '/v1/tokens', body);
      if (r.status !== 201) throw new Error(`token for ${teamId}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.token as string;
    };
    agentToken.set(teamId, await tok({ service: 'agent', teamId }));
    billingToken.set(teamId, await tok({ teamId, userId: 'billing' }));
  });
  const members: Member[] = Array.from({ length: MEMBERS }, (_, i) => ({
    teamId: teams[i % TEAMS],
    userId: `u${String(i).padStart(5, '0')}`,
    told: 0,
    purchasedTold: 0,
    heavy: i % 50 === 7,
  }));
  let added = 0;
  await inPool(members, 32, async (m) => {
    const r = await http.call(prov, 'PUT', `/v1/teams/${m.teamId}/members/${m.userId}`, {
      email: `${m.userId}@${m.teamId}.example`,
      roles: ['member'],
    });
    if (r.status !== 200) throw new Error(`adding ${m.userId}: ${r.status} ${JSON.stringify(r.body)}`);
    if (++added % Math.max(1, Math.round(MEMBERS / 10)) === 0) log(`  ${added} / ${MEMBERS} members added`);
  });
  const setupMs = performance.now() - setupStarted;
  log(
    `set up ${TEAMS} teams and ${MEMBERS} members (each with a running workflow) in ${(setupMs / 1000).toFixed(1)} s`,
  );

  // ---- 2. the busy day ----
  // Every operation is drawn first, so one sent again (no answer in time) repeats the same requests.
  const totalOps = MEMBERS * OPS_PER_MEMBER;
  const random = rng(Number(process.env.SOAK_SEED ?? 1));
  const heavy = members.filter((m) => m.heavy);
  type Op =
    | { kind: 'consume'; i: number; m: Member; credits: number }
    | { kind: 'reserve'; i: number; m: Member; credits: number; settle: number | null }
    | { kind: 'payg'; i: number; m: Member; enabled: boolean }
    | { kind: 'purchase'; i: number; m: Member; credits: number };
  const ops: Op[] = Array.from({ length: totalOps }, (_, i): Op => {
    const m =
      random() < 0.2 && heavy.length > 0
        ? heavy[Math.floor(random() * heavy.length)]
        : members[Math.floor(random() * MEMBERS)];
    const roll = random();
    if (roll < 0.6) {
      return {
        kind: 'consume',
        i,
        m,
        credits: m.heavy ? 20 + Math.floor(random() * 150) : 1 + Math.floor(random() * 20),
      };
    }
    if (roll < 0.85) {
      const credits = 5 + Math.floor(random() * 30);
      return { kind: 'reserve', i, m, credits, settle: random() < 0.8 ? 1 + Math.floor(random() * credits) : null };
    }
    if (roll < 0.95) return { kind: 'payg', i, m, enabled: random() < 0.6 };
    return { kind: 'purchase', i, m, credits: 10 + Math.floor(random() * 90) };
  });
  const kinds = {
    consume: 0,
    reserve: 0,
    settle: 0,
    release: 0,
    payg: 0,
    purchase: 0,
    refused: 0,
    /** Holds that expired before their settlement arrived (released by the workflow; nothing charged). */
    expiredHolds: 0,
    /** Set aside during the day for want of an answer, and sent again after it. */
    setAside: 0,
    /** Still without an answer after that: a failure. */
    unanswered: 0,
    errors: 0,
  };
  const consumeLatency: number[] = [];
  const errorSamples: string[] = [];
  const fail = (what: string, r: { status: number; body: unknown }) => {
    throw new Error(`${what} ${r.status} ${JSON.stringify(r.body)}`);
  };
  /** One operation, end to end; counted only once it has its answers (so it can be sent again as a whole). */
  const execute = async (op: Op, waitMs?: number): Promise<void> => {
    const { m } = op;
    const base = `/v1/teams/${m.teamId}/members/${m.userId}`;
    const agent = agentToken.get(m.teamId)!;
    const billing = billingToken.get(m.teamId)!;
    if (op.kind === 'consume') {
      const t0 = performance.now();
      const body = { requestId: `c${op.i}`, action: 'chat', credits: op.credits };
      const r = await http.call(agent, 'POST', `${base}/consumptions`, body, waitMs);
      consumeLatency.push(performance.now() - t0);
      kinds.consume++;
      if (r.status === 200) m.told += millicredits(r.body.charged.total);
      else if (r.status === 402) kinds.refused++;
      else fail('consume', r);
    } else if (op.kind === 'reserve') {
      const reservationId = `r${op.i}`;
      const body = { reservationId, action: 'write_tests', credits: op.credits };
      const r = await http.call(agent, 'POST', `${base}/reservations`, body, waitMs);
      if (r.status === 402) {
        kinds.reserve++;
        kinds.refused++;
        return;
      }
      if (r.status !== 200) fail('reserve', r);
      if (op.settle !== null) {
        const path = `${base}/reservations/${reservationId}/settle`;
        const s = await http.call(agent, 'POST', path, { credits: op.settle }, waitMs);
        if (s.status === 200) m.told += millicredits(s.body.charged.total);
        else if (s.status === 402) kinds.refused++;
        else if (s.status === 409 && s.body?.error?.code === 'reservation_not_held') kinds.expiredHolds++;
        else fail('settle', s);
        kinds.settle++;
      } else {
        const d = await http.call(agent, 'DELETE', `${base}/reservations/${reservationId}`, undefined, waitMs);
        if (d.status === 409 && d.body?.error?.code === 'reservation_not_held') kinds.expiredHolds++;
        else if (d.status !== 200) fail('release', d);
        kinds.release++;
      }
      kinds.reserve++;
    } else if (op.kind === 'payg') {
      const r = await http.call(billing, 'PUT', `${base}/payg`, { enabled: op.enabled }, waitMs);
      if (r.status !== 200) fail('payg', r);
      kinds.payg++;
    } else {
      const body = { purchaseId: `p${op.i}`, credits: op.credits };
      const r = await http.call(billing, 'POST', `${base}/credit-purchases`, body, waitMs);
      if (r.status === 200 || r.status === 201) m.purchasedTold += op.credits * 1000;
      else fail('purchase', r);
      kinds.purchase++;
    }
  };
  const setAside: Op[] = [];
  const attempt = async (op: Op, waitMs?: number): Promise<void> => {
    try {
      await execute(op, waitMs);
    } catch (err) {
      if (err instanceof NoAnswer && waitMs === undefined) {
        setAside.push(op);
        kinds.setAside++;
        return;
      }
      if (err instanceof NoAnswer) kinds.unanswered++;
      else kinds.errors++;
      if (errorSamples.length < 10) errorSamples.push((err as Error).message.slice(0, 300));
    }
  };
  let done = 0;
  let killed: { worker?: { name: string; downMs: number }; api?: { name: string; downMs: number } } = {};
  const killHalfway = (async () => {
    if (!t.cluster) return;
    while (done < totalOps / 2) await sleep(200);
    killed = { worker: await killAndWait('worker-1'), api: await killAndWait('api-2') };
  })();
  const dayStarted = performance.now();
  cpu.start();
  await inPool(ops, AGENTS, async (op) => {
    await attempt(op);
    if (++done % Math.max(1, Math.round(totalOps / 20)) === 0) {
      const s = (performance.now() - dayStarted) / 1000;
      log(
        `  ${done} / ${totalOps} operations, ${(done / s).toFixed(0)}/s, ${setAside.length} set aside, ` +
          `${kinds.errors} errors, ${http.retries} retries`,
      );
    }
  });
  if (setAside.length > 0) {
    log(`  sending the ${setAside.length} operations set aside again (same ids), waiting up to 10 min each…`);
    await inPool(setAside, 8, (op) => attempt(op, 600_000));
  }
  await killHalfway;
  const dayMs = performance.now() - dayStarted;
  const dayCpu = cpu.stop();
  consumeLatency.sort((a, b) => a - b);
  const lat = Float64Array.from(consumeLatency);
  log(
    `day: ${totalOps} operations in ${(dayMs / 1000).toFixed(1)} s (${(totalOps / (dayMs / 1000)).toFixed(0)}/s); ` +
      `consumptions p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms; ${kinds.errors} errors`,
  );

  // ---- 3. quiet, then the reconciliation and what clients were told ----
  const check = async (list: Member[], what: string) => {
    const checkStarted = performance.now();
    const result = {
      members: list.length,
      differences: 0,
      lost: 0,
      duplicated: 0,
      overspent: 0,
      samples: [] as string[],
      queriesRepeated: 0,
    };
    let checked = 0;
    // A query waits for the run's pending workflow task; right after the renewal the next runs' first tasks can
    // still be queued behind thousands of others, and the query times out (DEADLINE_EXCEEDED). Only that is asked
    // again (a read), for as long as the backlog could take; any other error stops the soak.
    const reconcile = async (m: Member) => {
      const deadline = Date.now() + Math.max(600_000, list.length * 100);
      for (;;) {
        try {
          return await reconcileMember({ db, client }, m.teamId, m.userId);
        } catch (err) {
          if (grpcCode(err) !== grpcStatus.DEADLINE_EXCEEDED || Date.now() > deadline) throw err;
          if (result.queriesRepeated++ === 0)
            log(`  ${what}: a query timed out (${(err as Error).message}); asking again`);
          await sleep(2_000);
        }
      }
    };
    await inPool(list, 16, async (m) => {
      let r = await reconcile(m);
      // Records still being written: wait (the work left scales with what is pending).
      for (let waited = 0; r.workflow.pendingRecords > 0 && waited < 600; waited++) {
        await sleep(500);
        r = await reconcile(m);
      }
      const note = (s: string) => result.samples.length < 10 && result.samples.push(`${m.teamId}/${m.userId}: ${s}`);
      if (r.differences.length > 0) {
        result.differences++;
        note(r.differences.join('; '));
      }
      const charged = r.ledger.used + r.ledger.paygCredits;
      if (what === 'day') {
        if (charged < m.told) {
          result.lost++;
          note(`told ${m.told}, ledger ${charged}`);
        } else if (charged > m.told) {
          result.duplicated++;
          note(`told ${m.told}, ledger ${charged}`);
        }
        if (r.ledger.purchased !== m.purchasedTold) {
          if (r.ledger.purchased < m.purchasedTold) result.lost++;
          else result.duplicated++;
          note(`purchases told ${m.purchasedTold}, ledger ${r.ledger.purchased}`);
        }
      }
      if (r.ledger.used > r.ledger.allowance + r.ledger.purchased) {
        result.overspent++;
        note(`used ${r.ledger.used} of ${r.ledger.allowance} + ${r.ledger.purchased}`);
      }
      if (++checked % Math.max(1, Math.round(list.length / 5)) === 0)
        log(`  ${what}: ${checked} / ${list.length} reconciled`);
    });
    log(
      `reconciliation (${what}) over ${list.length} members in ${((performance.now() - checkStarted) / 1000).toFixed(1)} s: ` +
        `${result.differences} with differences, ${result.lost} lost, ${result.duplicated} duplicated, ${result.overspent} overspent` +
        (result.queriesRepeated ? `; ${result.queriesRepeated} queries asked again` : ''),
    );
    for (const s of result.samples) log(`    ${s}`);
    return result;
  };
  const dayCheck = await check(members, 'day');
  const historySample = await historyEvents(client, members.slice(0, 50));

  // ---- 4. the renewal ----
  // SOAK_KILL_IN_RENEWAL=1 (on the cluster): worker-2 SIGKILLed once a third of the renewals landed, so renewals
  // whose task (with its local activity) was cut are made again.
  const killInRenewal =
    t.cluster && process.env.SOAK_KILL_IN_RENEWAL === '1' ? () => killAndWait('worker-2') : undefined;
  const renewal = await renew(client, db, plans, teams, cpu, killInRenewal);
  const renewed = renewal.members;
  const renewalCheck = await check(renewed, 'renewal');
  // ---- 5. the renewal's floor: as many bare workflows through the same billing date ----
  const floor = await renewalFloor(client, t.temporalEnv, clusterProcesses, renewal);

  // ---- results ----
  const storage = await storagePerMember(db, MEMBERS + RENEWALS, dbBytesBefore);
  const consumeOps = kinds.consume + kinds.settle;
  const perConsumption = Object.fromEntries(
    Object.entries(dayCpu).map(([k, v]) => [k, round((v * 1000) / Math.max(1, totalOps), 2)]),
  );
  /** CPU ms per member of every measured process but this one. */
  const perMember = (cpuSeconds: Record<string, number>, n: number) =>
    round(
      (Object.entries(cpuSeconds)
        .filter(([k]) => k !== 'soak (this process)')
        .reduce((s, [, v]) => s + v, 0) *
        1000) /
        n,
      1,
    );
  const renewalCpuMsPerMember = perMember(renewal.cpuSeconds, renewed.length);
  const floorCpuMsPerMember = perMember(floor.cpuSeconds, floor.members);
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
      note: 'shared with other work; see docs/capacity.md',
    },
    topology: t.cluster
      ? {
          temporal: `server from go.temporal.io/server, PostgreSQL persistence, ${t.cluster.historyShards} history shards, mTLS`,
          workers: 2,
          apis: 2,
          proxy: 'round-robin',
        }
      : 'given (API_URL / TEMPORAL_ADDRESS / DATABASE_URL)',
    parameters: { members: MEMBERS, teams: TEAMS, opsPerMember: OPS_PER_MEMBER, agents: AGENTS, renewals: RENEWALS },
    members: MEMBERS + RENEWALS,
    lost: dayCheck.lost + renewalCheck.lost,
    duplicated: dayCheck.duplicated + renewalCheck.duplicated,
    overspent: dayCheck.overspent + renewalCheck.overspent,
    reconciliationDifferences: dayCheck.differences + renewalCheck.differences,
    setupSeconds: round(setupMs / 1000, 1),
    day: {
      operations: totalOps,
      seconds: round(dayMs / 1000, 1),
      operationsPerSecond: round(totalOps / (dayMs / 1000), 1),
      consumptionsPerSecond: round(consumeOps / (dayMs / 1000), 1),
      consumptionP50Ms: round(percentile(lat, 50), 1),
      consumptionP99Ms: round(percentile(lat, 99), 1),
      kinds,
      httpRetries: http.retries,
      rateLimited: http.rateLimited,
      errorSamples,
      killed,
      cpuSeconds: dayCpu,
      cpuMsPerOperation: perConsumption,
    },
    renewal: {
      members: renewed.length,
      allGrantsMs: renewal.allGrantsMs,
      allExpiriesMs: renewal.allExpiriesMs,
      allContinuedMs: renewal.allContinuedMs,
      ...(renewal.killed ? { killed: renewal.killed } : {}),
      cpuSeconds: renewal.cpuSeconds,
      renewalCpuMsPerMember,
      floor: {
        what: 'as many bare workflows (bench/floor/workflows.ts floorRenewalWorkflow: timer, continue-as-new with the member state, the next run starting its timer) on two floor workers, due at one instant, measured as the renewal: every process from T until every run has continued as new',
        members: floor.members,
        allContinuedMs: floor.allContinuedMs,
        cpuSeconds: floor.cpuSeconds,
        cpuMsPerMember: floorCpuMsPerMember,
      },
      renewalToFloor: round(renewalCpuMsPerMember / floorCpuMsPerMember, 2),
    },
    renewalCpuMsPerMember,
    renewalFloorCpuMsPerMember: floorCpuMsPerMember,
    storage,
    temporalHistoryEventsPerMemberPeriod: historySample,
    reconciliation: { day: dayCheck, renewal: renewalCheck },
  };
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(root, 'bench', 'results', 'soak-latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(
    `members ${results.members}; lost ${results.lost}, duplicated ${results.duplicated}, overspent ${results.overspent}, ` +
      `reconciliation differences ${results.reconciliationDifferences}; renewal of ${renewed.length} in ` +
      `${(renewal.allGrantsMs / 1000).toFixed(1)} s, ${renewalCpuMsPerMember} ms CPU a member (its floor, bare ` +
      `workflows: ${floorCpuMsPerMember} ms; ${results.renewal.renewalToFloor}x); bench/results/soak-latest.json`,
  );
  await connection.close();
  await db.destroy();
  const bad =
    results.lost +
    results.duplicated +
    results.overspent +
    results.reconciliationDifferences +
    kinds.errors +
    kinds.unanswered;
  return bad === 0 ? 0 : 1;

  async function killAndWait(name: string): Promise<{ name: string; downMs: number }> {
    const before = readClusterState()!.pids[name];
    log(`  killing ${name} (pid ${before}) with SIGKILL`);
    const t0 = Date.now();
    process.kill(before, 'SIGKILL');
    for (;;) {
      const now = readClusterState()?.pids[name];
      if (now !== undefined && now !== before) break;
      if (Date.now() - t0 > 300_000) throw new Error(`${name} was not started again in 5 minutes`);
      await sleep(100);
    }
    log(`  ${name} is back after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { name, downMs: Date.now() - t0 };
  }
}

/**
 * Members whose periods end at one instant. A billing date is 00:00 UTC, so a period cannot be made to end a few
 * seconds from now; as in the bench, each renewal member (a member row of the soak's teams) gets the state a run
 * holds at the end of its period (the previous period: its grant and some use already in the ledger) and its
 * workflow a delayed start at one instant T: the server hands the workers every first task at T, as it hands out
 * the timers firing on a billing date. Each run closes the period (expiry), opens the next (grant) and continues
 * as new. Measured from T until every grant and expiry is in the ledger and every run has continued as new (as the
 * server's visibility counts them, which is how `renewalFloor` knows its bare runs are through).
 */
async function renew(
  client: Client,
  db: Knex,
  plans: PlanCatalogue,
  teams: string[],
  cpu: CpuByProcess,
  killMidway?: () => Promise<{ name: string; downMs: number }>,
) {
  const plan = plans.get(PLAN)!;
  const current = periodContaining(Date.now(), ANCHOR_DAY);
  const previous = previousPeriod(current, ANCHOR_DAY);
  const members: Member[] = Array.from({ length: RENEWALS }, (_, i) => ({
    teamId: teams[i % teams.length],
    userId: `r${String(i).padStart(5, '0')}`,
    told: 0,
    purchasedTold: 0,
    heavy: false,
  }));
  for (let i = 0; i < members.length; i += 500) {
    await db('members').insert(
      members.slice(i, i + 500).map((m) => ({
        team_id: m.teamId,
        user_id: m.userId,
        email: `${m.userId}@${m.teamId}.example`,
        roles: ['member'],
      })),
    );
  }
  const identity = (m: Member): MemberIdentity => ({
    teamId: m.teamId,
    userId: m.userId,
    billingAnchorDay: ANCHOR_DAY,
    plan,
  });
  const seedStarted = Date.now();
  const { carried } = await seedEndedPeriods(db, members.map(identity), {
    anchorDay: ANCHOR_DAY,
    concurrency: 16,
    runId: 'soak-seed',
  });
  log(
    `renewal: ${members.length} members seeded with their previous period in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`,
  );
  // T is after the last start: the time a call takes is measured on 200 describes, with a wide margin for starts.
  const probe = members.slice(0, Math.min(200, members.length));
  const probeStarted = Date.now();
  await inPool(probe, 50, (m) =>
    client.workflow
      .getHandle(memberWorkflowId(m.teamId, m.userId))
      .describe()
      .catch(() => undefined),
  );
  const msPerCall = (Date.now() - probeStarted) / probe.length;
  // A start writes a run where a describe only reads one: on the cluster a start took 5–10 times as long.
  const leadMs = Math.round(10_000 + 15 * msPerCall * members.length);
  const continuedBefore = await continuedAsNew(client, 'memberCreditsWorkflow');
  const instant = await startAtOneInstant('renewal', members.length, leadMs, (i, startDelay) => {
    const workflowId = memberWorkflowId(members[i].teamId, members[i].userId);
    return client.workflow.start(memberCreditsWorkflow, {
      workflowId,
      taskQueue: process.env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE,
      args: [{ ...identity(members[i]), carried: carried.get(workflowId) }],
      startDelay,
    });
  });
  cpu.start();
  const marks = { allGrantsMs: NaN, allExpiriesMs: NaN, allContinuedMs: NaN };
  let killing: Promise<{ name: string; downMs: number }> | undefined;
  let lastLog = Date.now();
  const deadline = Date.now() + Math.max(600_000, members.length * 500);
  for (;;) {
    const row = (
      await db.raw(
        `select count(*) filter (where kind = 'grant' and period_start = ?) as grants,
                count(*) filter (where kind = 'expire' and period_start = ?) as expiries
           from ledger_entries where team_id = any(?) and user_id like 'r%'`,
        [new Date(current.start), new Date(previous.start), teams],
      )
    ).rows[0] as { grants: string; expiries: string };
    const tt = Date.now() - instant;
    const grants = Number(row.grants);
    const expiries = Number(row.expiries);
    if (killMidway && !killing && grants >= members.length / 3) killing = killMidway();
    if (grants >= members.length && Number.isNaN(marks.allGrantsMs)) marks.allGrantsMs = tt;
    if (expiries >= members.length && Number.isNaN(marks.allExpiriesMs)) marks.allExpiriesMs = tt;
    // Visibility is only asked once the ledger is complete (a count every 250 ms would cost the measured processes).
    if (!Number.isNaN(marks.allGrantsMs) && !Number.isNaN(marks.allExpiriesMs)) {
      if ((await continuedAsNew(client, 'memberCreditsWorkflow')) - continuedBefore >= members.length) {
        marks.allContinuedMs = Date.now() - instant;
        break;
      }
      await sleep(750);
    }
    if (Date.now() - lastLog > 10_000) {
      log(`  renewal: ${grants} grants, ${expiries} expiries after ${(tt / 1000).toFixed(0)} s`);
      lastLog = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`renewal incomplete: ${grants} grants, ${expiries} expiries`);
    await sleep(250);
  }
  const killed = await killing;
  const cpuSeconds = cpu.stop();
  log(
    `renewal: all ${members.length} grants in ${(marks.allGrantsMs / 1000).toFixed(1)} s, expiries in ` +
      `${(marks.allExpiriesMs / 1000).toFixed(1)} s, every run continued as new in ${(marks.allContinuedMs / 1000).toFixed(1)} s`,
  );
  const carriedInOrder = members.map((m) => carried.get(memberWorkflowId(m.teamId, m.userId)));
  return {
    members,
    ...marks,
    ...(killed ? { killed } : {}),
    cpuSeconds,
    leadMs,
    periodEnd: previous.end,
    carriedInOrder,
  };
}

/**
 * Starts n workflows (`start(i, startDelay)`, 50 at a time) all runnable at one instant `leadMs` from now, and
 * waits for that instant, which it returns. Starts that end after it are not fatal: those runs were runnable at
 * once instead of at T, so the work spreads a little (said in the log).
 */
async function startAtOneInstant(
  what: string,
  n: number,
  leadMs: number,
  start: (i: number, startDelayMs: number) => Promise<unknown>,
): Promise<number> {
  const instant = Date.now() + leadMs;
  log(
    `${what}: starting ${n} workflows, all runnable at ${new Date(instant).toISOString()} (in ${(leadMs / 1000).toFixed(0)} s)…`,
  );
  await inPool(
    Array.from({ length: n }, (_, i) => i),
    50,
    (i) => start(i, Math.max(1, instant - Date.now())),
  );
  if (Date.now() > instant - 200)
    log(`${what}: the starts ended ${((Date.now() - instant) / 1000).toFixed(1)} s after T (planned: before)`);
  await sleep(Math.max(0, instant - Date.now()));
  return instant;
}

/** Runs of a workflow type that have continued as new, as the server's visibility counts them. */
async function continuedAsNew(client: Client, type: string): Promise<number> {
  return (await client.workflow.count(`WorkflowType = '${type}' AND ExecutionStatus = 'ContinuedAsNew'`)).count;
}

/**
 * The renewal's floor on the same topology, measured the same way: as many bare workflows
 * (bench/floor/workflows.ts `floorRenewalWorkflow`: the period timer, continue-as-new with the member's carried
 * state, the next run's timer), run by two floor workers started here on a task queue of their own, due at one
 * instant T with the renewal's lead, CPU of every process from T until every run has continued as new. What one
 * workflow per member per period costs this Temporal and this SDK at a billing date with none of the member
 * workflow's own work: the part of `renewalCpuMsPerMember` no change to the member workflow can remove. The bare
 * runs are terminated after (their next timers are a month away).
 */
async function renewalFloor(
  client: Client,
  temporalEnv: NodeJS.ProcessEnv,
  processes: () => Record<string, { pid: number; tree: boolean }>,
  renewal: { leadMs: number; periodEnd: number; carriedInOrder: unknown[] },
) {
  const n = renewal.carriedInOrder.length;
  const taskQueue = `soak-floor-${RUN}`;
  const logDir = path.join(root, '.data', 'soak');
  mkdirSync(logDir, { recursive: true });
  const workers: ChildService[] = [];
  try {
    for (const k of [1, 2]) {
      workers.push(
        await startChild({
          name: `floor worker ${k}`,
          script: 'bench/floor/worker.ts',
          env: { ...process.env, ...temporalEnv, TEMPORAL_TASK_QUEUE: taskQueue },
          logFile: path.join(logDir, `floor-worker-${k}.log`),
          ready: /worker polling task queue/,
          log,
        }),
      );
    }
    const ids = Array.from({ length: n }, (_, i) => `soak-${RUN}-floor/${i}`);
    const before = await continuedAsNew(client, 'floorRenewalWorkflow');
    const instant = await startAtOneInstant('floor', n, renewal.leadMs, (i, startDelay) =>
      client.workflow.start(floorRenewalWorkflow, {
        workflowId: ids[i],
        taskQueue,
        args: [{ periodEnd: renewal.periodEnd, carried: renewal.carriedInOrder[i] }],
        startDelay,
      }),
    );
    const cpu = new CpuByProcess(() => ({
      ...processes(),
      ...Object.fromEntries(workers.map((w, k) => [`floor-worker-${k + 1}`, { pid: w.pid, tree: false }])),
    }));
    cpu.start();
    const deadline = Date.now() + Math.max(600_000, n * 500);
    let lastLog = Date.now();
    for (;;) {
      const done = (await continuedAsNew(client, 'floorRenewalWorkflow')) - before;
      if (done >= n) break;
      if (Date.now() - lastLog > 10_000) {
        log(`  floor: ${done} of ${n} continued as new after ${((Date.now() - instant) / 1000).toFixed(0)} s`);
        lastLog = Date.now();
      }
      if (Date.now() > deadline) throw new Error(`floor incomplete: ${done} of ${n} continued as new`);
      await sleep(1000);
    }
    const allContinuedMs = Date.now() - instant;
    const cpuSeconds = cpu.stop();
    log(`floor: every one of ${n} runs continued as new in ${(allContinuedMs / 1000).toFixed(1)} s`);
    await inPool(ids, 50, (id) =>
      client.workflow
        .getHandle(id)
        .terminate('soak: floor measured')
        .catch(() => undefined),
    );
    return { members: n, allContinuedMs, cpuSeconds };
  } finally {
    for (const w of workers) await w.stop();
  }
}

/** History events of the current run of a sample, and of the runs before it in the same period. */
async function historyEvents(client: Client, sample: Member[]): Promise<{ sample: number; mean: number; max: number }> {
  const counts: number[] = [];
  for (const m of sample) {
    const d = await client.workflow.getHandle(memberWorkflowId(m.teamId, m.userId)).describe();
    counts.push(d.historyLength);
  }
  return {
    sample: counts.length,
    mean: round(counts.reduce((a, b) => a + b, 0) / counts.length, 1),
    max: Math.max(...counts),
  };
}

async function databaseBytes(db: Knex): Promise<Record<string, number>> {
  const rows = (
    await db.raw(
      `select datname, pg_database_size(datname)::bigint as bytes from pg_database where datname in (current_database(), 'temporal', 'temporal_visibility')`,
    )
  ).rows as { datname: string; bytes: string }[];
  return Object.fromEntries(rows.map((r) => [r.datname, Number(r.bytes)]));
}

async function storagePerMember(db: Knex, members: number, before: Record<string, number>) {
  const after = await databaseBytes(db);
  const rows = (
    await db.raw(
      `select relname, n_live_tup::bigint as rows, pg_total_relation_size(relid)::bigint as bytes
         from pg_stat_user_tables order by pg_total_relation_size(relid) desc limit 12`,
    )
  ).rows as { relname: string; rows: string; bytes: string }[];
  return {
    note: 'the run’s growth of each database, and the largest tables of the service’s database, divided by the members of this run (one period each)',
    bytesPerMemberPeriod: Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, round((v - (before[k] ?? 0)) / members, 0)]),
    ),
    tables: rows.map((r) => ({ table: r.relname, rows: Number(r.rows), bytes: Number(r.bytes) })),
  };
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[soak] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
