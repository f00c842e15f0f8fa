/**
 * The four ways a consumption (or its stand-in) is made, each a function of the operation number:
 *
 *   A  the HTTP API, as Agent Mode calls it (real path: Fastify, token auth, `LeaseHolder`: one PostgreSQL
 *      transaction from a lease, or one Update to the member workflow when no lease covers it);
 *   B  the same consumption in this process through `MemberCredits` / `LeaseHolder`, wired as the API wires them
 *      (same pool size), without HTTP: A − B is what HTTP and authentication cost;
 *   C  the floor: a plain Update on a bare workflow whose handler does nothing, the least a consumption that goes
 *      to its workflow can cost (a lease renewal, a PAYG or refused decision, the old design's every consumption);
 *   D  the peer approach: one PostgreSQL transaction, UPDATE … RETURNING on a balance row plus a ledger insert.
 */
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type pg from 'pg';
import { Pool } from 'undici';
import type { MemberCredits } from '../src/credits/member-credits';
import type { ConsumeInput } from '../workflows/member-credits/types';
import { KeyedConcurrencyLimiter, MAX_UPDATES_IN_FLIGHT_PER_MEMBER } from '../src/temporal/member-client';
import { bareUpdate, type floorWorkflow } from './floor/workflows';

export type PathId = 'A' | 'B' | 'C' | 'D';

export const PATH_TITLES: Record<PathId, string> = {
  A: 'A  HTTP API (real path)',
  B: 'B  in-process LeaseHolder',
  C: 'C  floor: bare Update',
  D: 'D  peer: one PG transaction',
};

/** Every consumption of the run: a fixed small amount, so no member leaves its allowance (no PAYG, no emails). */
export const ACTION = 'chat';
export const CREDITS = '0.01';
export const MILLICREDITS = 10;

export type Op = (i: number) => Promise<void>;

export class Counters {
  retries = 0;
}

/**
 * C keeps at most as many Updates in flight per workflow as `MemberClient` does for A and B (the server admits 10
 * and refuses the rest); the other callers wait in this process.
 */
const inFlight = new KeyedConcurrencyLimiter(MAX_UPDATES_IN_FLIGHT_PER_MEMBER);

// ---- A: HTTP ----

export function httpConsumer(baseUrl: string, connections: number) {
  // undici's pool (kept-alive connections, no pipelining): the agents' side of the measurement should cost as
  // little CPU as a real agent's client would, since it shares this machine's two CPUs with what is measured.
  const pool = new Pool(baseUrl, { connections, pipelining: 1 });
  const request = async (method: 'GET' | 'POST', pathname: string, token: string, body?: string) => {
    const res = await pool.request({
      method,
      path: pathname,
      headers:
        body === undefined
          ? { authorization: `Bearer ${token}` }
          : { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const post = (pathname: string, token: string, body: string) => request('POST', pathname, token, body);
  return {
    pool,
    /** A consumption through the API; anything but `200 allowed` is an error. */
    consume(teamId: string, userId: string, token: string, requestId: string): Promise<void> {
      const body = JSON.stringify({ requestId, action: ACTION, credits: CREDITS });
      return post(`/v1/teams/${teamId}/members/${userId}/consumptions`, token, body).then((r) => {
        if (r.status !== 200 || !r.body.includes('"decision":"allowed"')) {
          throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
        }
      });
    },
    /**
     * The HTTP + authentication floor of the API: the same route, a body the schema refuses (unknown action),
     * so the request is authenticated, parsed and validated and answered 400 without Temporal or a handler.
     */
    rejected(teamId: string, userId: string, token: string, requestId: string): Promise<void> {
      const body = JSON.stringify({ requestId, action: 'not_an_action', credits: CREDITS });
      return post(`/v1/teams/${teamId}/members/${userId}/consumptions`, token, body).then((r) => {
        if (r.status !== 400) throw new Error(`expected 400, got HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      });
    },
    /** A GET answered 200, parsed. */
    async get<T>(pathname: string, token: string): Promise<T> {
      const r = await request('GET', pathname, token);
      if (r.status !== 200) throw new Error(`GET ${pathname}: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      return JSON.parse(r.body) as T;
    },
  };
}

// ---- B: in process ----

/** B: the API's consumption without HTTP: `MemberCredits.consume`, wired as `src/api/server.ts` wires it. */
export function inProcessConsumer(credits: MemberCredits) {
  return async (teamId: string, userId: string, requestId: string): Promise<void> => {
    const answer = await credits.consume(teamId, userId, { requestId, action: ACTION, millicredits: MILLICREDITS });
    if (answer.decision !== 'allowed') throw new Error(`decision ${answer.decision}`);
  };
}

// ---- C: the Temporal client ----

/**
 * Same policy as `MemberClient`: retry an Update that raced a continue-as-new, a failed workflow task (at
 * continue-as-new, an Update arriving meanwhile fails the task with UnhandledCommand and the server aborts the
 * Updates it carried) or a momentary server error. Safe: a repeated request id gets the first answer.
 */
async function withRetry<T>(counters: Counters, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5 || !isTransient(err)) throw err;
      counters.retries++;
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
}

function isTransient(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  if (err instanceof WorkflowUpdateFailedError) return !(err.cause instanceof ApplicationFailure);
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    parts.push(`${e.name} ${e.message}`);
  }
  const text = parts.join(' | ');
  return /completed|continued|UNAVAILABLE|DEADLINE|ResourceExhausted|unavailable|workflow task failure/i.test(text);
}

/** What the API sends when a consumption goes to the workflow (C sends the same payload to its bare workflow). */
export function consumeInput(requestId: string): ConsumeInput {
  return { requestId, action: ACTION, millicredits: MILLICREDITS, holder: 'bench', wantLease: true };
}

/** C: a plain Update on a running bare workflow, with the same input a consumption carries. */
export function bareUpdater(client: Client, counters: Counters) {
  const handles = new Map<string, WorkflowHandle<typeof floorWorkflow>>();
  return async (workflowId: string, requestId: string): Promise<void> => {
    let handle = handles.get(workflowId);
    if (!handle) handles.set(workflowId, (handle = client.workflow.getHandle(workflowId)));
    const h = handle;
    await withRetry(counters, () =>
      inFlight.run(workflowId, () => h.executeUpdate(bareUpdate, { args: [consumeInput(requestId)] })),
    );
  };
}

// ---- D: PostgreSQL ----

export const PEER_TABLE = 'bench_peer_balances';

export async function createPeerTable(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table if not exists ${PEER_TABLE} (
      team_id varchar(64) not null,
      user_id varchar(64) not null,
      period_start timestamptz not null,
      period_end timestamptz not null,
      allowance bigint not null,
      used bigint not null default 0,
      primary key (team_id, user_id)
    )`);
}

/**
 * D: what a service without Temporal would do per consumption: in one transaction, take the credits from the
 * balance row only if they are there (`UPDATE … WHERE allowance - used >= $n RETURNING`), and append the
 * ledger row (same table and unique key as the real ledger). Prepared statements, a pooled connection.
 */
export function peerConsumer(pool: pg.Pool) {
  return async (teamId: string, userId: string, requestId: string): Promise<void> => {
    const c = await pool.connect();
    try {
      await c.query('begin');
      const updated = await c.query({
        name: 'peer-take',
        text: `update ${PEER_TABLE} set used = used + $3
                where team_id = $1 and user_id = $2 and allowance - used >= $3
                returning period_start, period_end, allowance, used`,
        values: [teamId, userId, MILLICREDITS],
      });
      const row = updated.rows[0] as
        { period_start: Date; period_end: Date; allowance: number; used: number } | undefined;
      if (!row) throw new Error('refused: insufficient credits');
      await c.query({
        name: 'peer-ledger',
        text: `insert into ledger_entries
                 (entry_key, team_id, user_id, period_start, period_end, kind, millicredits, request_id, action,
                  workflow_id, run_id, occurred_at)
               values ($1, $2, $3, $4, $5, 'consume', $6, $7, $8, 'bench-peer', 'bench-peer', now())`,
        values: [
          `${teamId}/${userId}:peer:consume:${requestId}`,
          teamId,
          userId,
          row.period_start,
          row.period_end,
          MILLICREDITS,
          requestId,
          ACTION,
        ],
      });
      await c.query('commit');
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
}
