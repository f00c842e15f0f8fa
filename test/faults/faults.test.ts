/**
 * `npm run test:faults`: nothing accepted is lost or counted twice while the stack is being broken.
 *
 * Concurrent agents consume credits for 24 members over three teams (PAYG, PAYG switched off mid-run, a free plan
 * that runs out), with deliberate duplicate requestIds (sequential and concurrent), purchases sent twice and
 * client retries after timeouts; they also hold credits (reserve), then settle part of the hold (sometimes twice at
 * once), release it, or forget it for the workflow to release at its expiry. Meanwhile the harness SIGKILLs the worker and the API, crashes and restarts
 * PostgreSQL, restarts the Temporal dev server on its SQLite file, and a proxy drops API connections after the
 * request reached the API. Then the agents retry what they never got an answer to, four members are removed
 * (which closes their period and invoices their PAYG), and everything is reconciled:
 *
 * - every consumption answered 200 is in the ledger exactly once, with the charged split it was answered with;
 *   none answered 402 is; the ledger holds nothing nobody was answered for;
 * - nothing is overspent: per member, what was answered `allowed` from credits stays within the allowance and
 *   the purchases, and every PAYG credit answered is one the workflow decided (a PAYG ledger row of its run);
 * - a repeated requestId got the same answer as the first time; a settle is a consumption like the others (its
 *   ledger rows carry `r:<reservationId>`), so no held credit is spent twice or lost;
 * - every hold is gone at the end: none left in the workflow's state or the usage rows (expired ones released);
 * - per member, the client's tally of answers = the workflow's state (plus what its open budget leases spent) =
 *   the usage row = the ledger (the reconciliation check of src/credits/reconcile.ts);
 * - PAYG: state credits and charge = ledger PAYG credits × rate; removed members' invoice lines = ledger PAYG;
 *   each purchase is one ledger row and one invoice line at the plan's price;
 * - every threshold notification the workflow decided is one alert and one email per recipient, each sent; the
 *   team's PAYG threshold email to its Billing admin goes out once;
 * - webhooks (an endpoint per team on a receiver in this process): every event stored was delivered at least once,
 *   signed, with one id and one body; every threshold the workflow decided and every pause and resume alert has
 *   its event; none has two ids.
 *
 * It prints the counts and fails on any lost, duplicated or mismatched one.
 */
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createDb } from '../../src/db/knex';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { formatCredits, parseCredits } from '../../workflows/domain/credits';
import { AGENT_ACTIONS } from '../../workflows/domain/plans';
import { paygChargeMinor } from '../../workflows/domain/money';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import type { MemberCreditsView } from '../../workflows/member-credits/types';
import { reconcileMember } from '../../src/credits/reconcile';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/events';
import { verifyWebhookSignature } from '../../src/webhooks/verify';
import { WebhookReceiver } from '../support/webhook-receiver';
import { chargedOf, RetryingClient, sameCharge, type Answer, type Charged } from './load';
import { FaultStack } from './stack';

const root = path.resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stdout.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const AGENTS = 16;
const DROP_RATE = 0.03;
const PAYG_RATE = 40_000; // basic plan, micros per credit
const PURCHASE_RATE = 35_000;
/** The faults the schedule below injects, each of which the run must show happened. */
const SCHEDULED = { workerKills: 4, apiKills: 1, postgresRestarts: 2, temporalRestarts: 2 };
const LONG_OUTAGE_MS = 20_000;
/** Temporal refuses payloads over 2 MiB: the state carried into continue-as-new must stay well under it. */
const PAYLOAD_LIMIT = 2 * 1024 * 1024;

interface Member {
  teamId: string;
  userId: string;
  plan: 'basic' | 'free';
  removed: boolean;
  seq: number;
  holdSeq: number;
}

interface Sent {
  member: Member;
  requestId: string;
  body: { requestId: string; action: string; credits: string };
  /** A settle of this hold (the request id is `r:<reservationId>`, as on its ledger rows). */
  settle?: { reservationId: string; credits: string };
  decision?: 'allowed' | 'allowed_payg' | 'refused';
  charged?: Charged;
}

interface Counts {
  consumptionsSent: number;
  duplicatesSent: number;
  allowed: number;
  refused: number;
  lost: number;
  duplicated: number;
  mismatched: number;
  overspent: number;
  refusedButRecorded: number;
  recordedWithoutAnswer: number;
  duplicateAnsweredDifferently: number;
  unanswered: number;
  unexpectedStatus: number;
  holdsSent: number;
  holdsRefused: number;
  holdsSettled: number;
  holdsReleased: number;
  holdsForgotten: number;
  holdsLeft: number;
}

jest.setTimeout(20 * 60_000);

/** Alerts of pausing and resuming: several a period, matched against their webhook events, not `notificationsSent`. */
const PAUSE_KINDS = new Set(['member_paused', 'member_resumed']);

test('no consumption is lost or counted twice under faults', async () => {
  const stack = new FaultStack(path.join(root, '.data', 'faults'), log);
  const receiver = new WebhookReceiver();
  let db: Knex | undefined;
  let connection: Connection | undefined;
  try {
    log('starting PostgreSQL, Temporal dev server, worker, API, SMTP catcher, proxy…');
    await stack.start();
    const setup = new RetryingClient(() => stack.apiUrl, 60_000);
    const prov = stack.provisioningToken;
    const must = async (method: string, p: string, token: string, body?: unknown, ok = [200, 201]) => {
      const r = await setup.send(method, p, token, body);
      if (!r || !ok.includes(r.status)) throw new Error(`${method} ${p} → ${r?.status} ${JSON.stringify(r?.body)}`);
      return r.body;
    };

    // ---- teams, members, tokens ----
    const members: Member[] = [];
    const billingTokens = new Map<string, string>();
    const run = Date.now().toString(36);
    for (const [name, plan] of [
      ['p', 'basic'],
      ['q', 'basic'],
      ['f', 'free'],
    ] as const) {
      const teamId = `faults-${name}-${run}`;
      // Team p has a PAYG threshold of 5.00: its Billing email is part of what must arrive exactly once.
      const threshold = name === 'p' ? { paygThresholdMinor: 500 } : {};
      // 409: an attempt whose answer was lost on this busy machine (the setup client retries) created it already.
      await must('POST', '/v1/teams', prov, { teamId, plan, billingAnchorDay: 1, ...threshold }, [200, 201, 409]);
      await must('PUT', `/v1/teams/${teamId}/members/boss`, prov, {
        email: `boss@${teamId}.example`,
        roles: ['admin', 'billing'],
      });
      billingTokens.set(teamId, (await must('POST', '/v1/tokens', prov, { teamId, userId: 'boss' })).token);
      for (let i = 0; i < 8; i++) {
        const userId = `${name}${i}`;
        await must('PUT', `/v1/teams/${teamId}/members/${userId}`, prov, {
          email: `${userId}@${teamId}.example`,
          roles: ['member'],
        });
        members.push({ teamId, userId, plan, removed: false, seq: 0, holdSeq: 0 });
      }
    }
    const agentToken: string = (await must('POST', '/v1/tokens', prov, { service: 'agent', scope: 'global' })).token;
    // Every event of every team to a receiver here (the worker runs with WEBHOOK_ALLOW_PRIVATE=1).
    await receiver.start();
    const webhookSecrets = new Map<string, string>();
    for (const [teamId, token] of billingTokens) {
      const hook = await must('PUT', `/v1/teams/${teamId}/webhooks/faults`, token, {
        url: receiver.on(`/${teamId}`, () => 200),
        events: [...WEBHOOK_EVENT_TYPES],
      });
      webhookSecrets.set(teamId, hook.secret);
    }
    const teamOf = (name: string) => members.find((m) => m.userId.startsWith(name))!.teamId;

    // ---- load ----
    const client = new RetryingClient(() => stack.proxyUrl, 4 * 60_000);
    const sent = new Map<string, Sent>();
    const counts: Counts = {
      consumptionsSent: 0,
      duplicatesSent: 0,
      allowed: 0,
      refused: 0,
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      overspent: 0,
      refusedButRecorded: 0,
      recordedWithoutAnswer: 0,
      duplicateAnsweredDifferently: 0,
      unanswered: 0,
      unexpectedStatus: 0,
      holdsSent: 0,
      holdsRefused: 0,
      holdsSettled: 0,
      holdsReleased: 0,
      holdsForgotten: 0,
      holdsLeft: 0,
    };
    const problems: string[] = [];
    const problem = (msg: string) => {
      if (problems.length < 30) problems.push(msg);
    };
    const keyOf = (m: Member, requestId: string) => `${m.teamId}/${m.userId}/${requestId}`;

    const record = (s: Sent, a: Answer | undefined) => {
      if (!a) return; // never answered: retried after the faults
      // A settle that came after its hold expired (the stack was down past `expiresAt`): nothing is recorded.
      if (s.settle && a.status === 409 && a.body?.error?.code === 'reservation_not_held') {
        a = { status: 402, body: { decision: 'refused' } };
      }
      if (a.status !== 200 && a.status !== 402) {
        counts.unexpectedStatus++;
        problem(`${s.requestId}: unexpected ${a.status} ${JSON.stringify(a.body)}`);
        return;
      }
      const decision = a.body.decision as Sent['decision'];
      const charged = chargedOf(a.body);
      if (s.decision === undefined) {
        s.decision = decision;
        s.charged = charged;
      } else if (s.decision !== decision || !sameCharge(s.charged!, charged)) {
        counts.duplicateAnsweredDifferently++;
        problem(`${s.requestId}: answered ${s.decision} then ${decision}`);
      }
    };
    const consume = async (s: Sent) =>
      record(
        s,
        s.settle
          ? await client.send(
              'POST',
              `/v1/teams/${s.member.teamId}/members/${s.member.userId}/reservations/${s.settle.reservationId}/settle`,
              agentToken,
              { credits: s.settle.credits },
            )
          : await client.send(
              'POST',
              `/v1/teams/${s.member.teamId}/members/${s.member.userId}/consumptions`,
              agentToken,
              s.body,
            ),
      );
    // A hold: settled for part of it (60 %, a third of those sent twice at once), released (20 %), or forgotten
    // with a short time to live for the workflow to release (20 %).
    const hold = async (m: Member) => {
      const reservationId = `${m.userId}-h${++m.holdSeq}`;
      const fate = Math.random();
      const action = AGENT_ACTIONS[Math.floor(Math.random() * AGENT_ACTIONS.length)];
      const body = {
        reservationId,
        action,
        credits: String(1 + Math.floor(Math.random() * 12)),
        ttlSeconds: fate < 0.8 ? 180 : 2 + Math.floor(Math.random() * 4),
      };
      counts.holdsSent++;
      const path = `/v1/teams/${m.teamId}/members/${m.userId}/reservations`;
      const r = await client.send('POST', path, agentToken, body);
      if (!r) {
        // Never answered: asked again (and released) once the stack is whole.
        unansweredHolds.push({ member: m, body });
        return;
      }
      if (r.status === 402) {
        counts.holdsRefused++;
        return;
      }
      if (r.status !== 200) {
        counts.unexpectedStatus++;
        problem(`hold ${reservationId}: unexpected ${r.status} ${JSON.stringify(r.body)}`);
        return;
      }
      if (fate < 0.6) {
        const held = parseCredits(r.body.held);
        const requestId = `r:${reservationId}`;
        const s: Sent = {
          member: m,
          requestId,
          body: { requestId, action, credits: '' },
          settle: { reservationId, credits: formatCredits(Math.floor(Math.random() * (held + 1))) },
        };
        sent.set(keyOf(m, requestId), s);
        counts.holdsSettled++;
        if (fate < 0.2) {
          counts.duplicatesSent++;
          await Promise.all([consume(s), consume(s)]);
        } else {
          await consume(s);
        }
      } else if (fate < 0.8) {
        counts.holdsReleased++;
        const rel = await client.send('DELETE', `${path}/${reservationId}`, agentToken);
        if (rel && rel.status !== 200) {
          counts.unexpectedStatus++;
          problem(`release ${reservationId}: ${rel.status} ${JSON.stringify(rel.body)}`);
        }
      } else {
        counts.holdsForgotten++;
      }
    };
    const unansweredHolds: { member: Member; body: { reservationId: string } }[] = [];
    const fresh = (m: Member): Sent => {
      const requestId = `${m.userId}-${++m.seq}`;
      const whole = 1 + Math.floor(Math.random() * 12);
      const credits = Math.random() < 0.3 ? `${whole}.125` : String(whole);
      const s: Sent = {
        member: m,
        requestId,
        body: { requestId, action: AGENT_ACTIONS[Math.floor(Math.random() * AGENT_ACTIONS.length)], credits },
      };
      sent.set(keyOf(m, requestId), s);
      counts.consumptionsSent++;
      return s;
    };

    let loadOn = true;
    const agent = async () => {
      while (loadOn) {
        const m = members[Math.floor(Math.random() * members.length)];
        const dice = Math.random();
        if (dice < 0.1 && m.seq > 0) {
          // The same request again, later (an agent that retried on its own).
          const again = sent.get(keyOf(m, `${m.userId}-${1 + Math.floor(Math.random() * m.seq)}`))!;
          counts.duplicatesSent++;
          await consume(again);
        } else if (dice < 0.2) {
          // The same request twice at once.
          const s = fresh(m);
          counts.duplicatesSent++;
          await Promise.all([consume(s), consume(s)]);
        } else if (dice < 0.35) {
          await hold(m);
        } else {
          await consume(fresh(m));
        }
      }
    };

    // Billing admins act during the load: purchases (each sent twice) and PAYG switched off for half of team q.
    const purchases: { member: Member; purchaseId: string; credits: string; statuses: number[] }[] = [];
    const billing = async () => {
      await sleep(5000);
      const q = members.filter((m) => m.teamId === teamOf('q'));
      for (const m of q.slice(0, 4)) {
        const p = { member: m, purchaseId: `buy-${m.userId}`, credits: '25.5', statuses: [] as number[] };
        purchases.push(p);
        for (let i = 0; i < 2; i++) {
          const r = await client.send(
            'POST',
            `/v1/teams/${m.teamId}/members/${m.userId}/credit-purchases`,
            billingTokens.get(m.teamId)!,
            { purchaseId: p.purchaseId, credits: p.credits },
          );
          p.statuses.push(r?.status ?? 0);
        }
      }
      await sleep(10_000);
      for (const m of q.slice(4)) {
        const r = await client.send(
          'PUT',
          `/v1/teams/${m.teamId}/members/${m.userId}/payg`,
          billingTokens.get(m.teamId)!,
          { enabled: false },
        );
        if (r?.status !== 200) problem(`PAYG off for ${m.userId}: ${r?.status}`);
      }
    };

    const faults = async () => {
      const schedule: [number, () => Promise<void>][] = [
        [10_000, () => stack.killWorker()],
        [10_000, () => stack.restartPostgres()],
        [10_000, () => stack.restartTemporal()],
        [8_000, () => stack.killApi()],
        [6_000, () => stack.killWorker(500)],
        // A long PostgreSQL outage under load, with a worker kill in it: decisions wait, leases cannot be spent,
        // the workflows' unwritten records grow (bounded; sampled below) and are all written once it is back.
        [8_000, () => Promise.all([stack.restartPostgres(LONG_OUTAGE_MS), stack.killWorker()]).then(() => undefined)],
        [10_000, () => stack.restartTemporal()],
        [8_000, () => stack.killWorker()],
      ];
      for (const [wait, fault] of schedule) {
        await sleep(wait);
        await fault();
      }
      await sleep(8000);
    };

    // The members' state while the faults go on: unwritten records and the size of what a run would carry.
    const stateSeen = { maxPendingRecords: 0, maxCarriedBytes: 0, samples: 0 };
    const sampler = (async () => {
      const conn = await Connection.connect({ address: stack.temporalAddress }).catch(() => undefined);
      const c = conn && new Client({ connection: conn });
      while (c && loadOn) {
        for (const m of members) {
          const v = await c.workflow
            .getHandle(memberWorkflowId(m.teamId, m.userId))
            .query(creditStateQuery)
            .catch(() => undefined);
          if (!v) continue;
          stateSeen.samples++;
          stateSeen.maxPendingRecords = Math.max(stateSeen.maxPendingRecords, v.pendingRecords);
          stateSeen.maxCarriedBytes = Math.max(stateSeen.maxCarriedBytes, v.carriedBytes);
        }
        await sleep(500);
      }
      await conn?.close().catch(() => undefined);
    })();

    log(`load: ${AGENTS} agents over ${members.length} members, ${DROP_RATE * 100}% of connections dropped`);
    stack.proxy.dropRate = DROP_RATE;
    const agents = Array.from({ length: AGENTS }, agent);
    const started = Date.now();
    await Promise.all([faults(), billing()]);
    loadOn = false;
    await Promise.all([...agents, sampler]);
    log(`load done in ${Math.round((Date.now() - started) / 1000)} s`);

    // ---- what was never answered gets asked again, now that the stack is whole ----
    stack.proxy.dropRate = 0;
    const unanswered = [...sent.values()].filter((s) => s.decision === undefined);
    log(`asking again for ${unanswered.length} consumption(s) that never got an answer`);
    for (const s of unanswered) await consume(s);
    counts.unanswered = [...sent.values()].filter((s) => s.decision === undefined).length;
    for (const { member: m, body } of unansweredHolds) {
      const path = `/v1/teams/${m.teamId}/members/${m.userId}/reservations`;
      const again = await client.send('POST', path, agentToken, body);
      const rel =
        again?.status === 200 ? await client.send('DELETE', `${path}/${body.reservationId}`, agentToken) : again;
      if (rel?.status !== 200 && rel?.status !== 402) {
        counts.unanswered++;
        problem(`hold ${body.reservationId}: asked again, answered ${rel?.status}`);
      }
    }

    // ---- four members leave: their period closes and their PAYG goes on the invoice ----
    stack.proxy.dropRate = DROP_RATE;
    const leaving = members.filter((m) => m.teamId === teamOf('p')).slice(0, 4);
    for (const m of leaving) {
      const r = await client.send('DELETE', `/v1/teams/${m.teamId}/members/${m.userId}`, prov);
      // A retry after a dropped 204 finds the member gone: 404 then means the removal is done.
      if (r?.status !== 204 && r?.status !== 404) problem(`removing ${m.userId}: ${r?.status}`);
      m.removed = true;
    }
    stack.proxy.dropRate = 0;

    // ---- quiesce: every outbox written, every email sent ----
    connection = await Connection.connect({ address: stack.temporalAddress });
    const temporal = new Client({ connection });
    db = createDb(stack.databaseUrl);
    const views = new Map<Member, MemberCreditsView>();
    const quietBy = Date.now() + 5 * 60_000;
    for (;;) {
      let busy = 0;
      for (const m of members) {
        const v = await temporal.workflow
          .getHandle(memberWorkflowId(m.teamId, m.userId))
          .query(creditStateQuery)
          .catch(() => undefined);
        // Forgotten holds are still out until their few seconds run out (or their period's settles came late).
        if (!v || v.pendingRecords > 0 || v.pendingDeliveries > 0 || (!m.removed && v.balance.held > 0)) busy++;
        else views.set(m, v);
      }
      const [{ unsent }] = await db('email_outbox').whereNull('sent_at').count<{ unsent: string }[]>('* as unsent');
      const [{ undelivered }] = await db('webhook_deliveries')
        .whereNot('status', 'delivered')
        .count<{ undelivered: string }[]>('* as undelivered');
      if (busy === 0 && Number(unsent) === 0 && Number(undelivered) === 0) break;
      if (Date.now() > quietBy) {
        throw new Error(
          `not quiet after 5 minutes: ${busy} busy members, ${unsent} unsent emails, ${undelivered} webhooks`,
        );
      }
      await sleep(1000);
    }

    // No run failed (a failed run would lose its period: the next request would start a fresh one).
    const failedRuns: string[] = [];
    for await (const w of temporal.workflow.list({ query: 'ExecutionStatus = "Failed"' }))
      failedRuns.push(w.workflowId);
    for (const id of failedRuns) problem(`workflow run failed: ${id}`);

    // ---- reconcile ----
    const teamIds = [...new Set(members.map((m) => m.teamId))];
    const ledger: {
      team_id: string;
      user_id: string;
      kind: string;
      request_id: string | null;
      millicredits: number;
      amount_minor: number | null;
      lease_id: string | null;
    }[] = await db('ledger_entries').whereIn('team_id', teamIds);
    // Consumption rows by who decided them: the API from a budget lease, or the workflow (PAYG, refusals' neighbours,
    // threshold crossings, and everything while no lease could be had: API restarted, leases taken back).
    const consumptionRows = ledger.filter((r) => r.kind === 'consume' || r.kind === 'payg');
    const fromLeases = consumptionRows.filter((r) => r.lease_id !== null).length;
    const rowsByRequest = new Map<string, typeof ledger>();
    for (const r of ledger) {
      if (r.kind !== 'consume' && r.kind !== 'payg') continue;
      const k = `${r.team_id}/${r.user_id}/${r.request_id}`;
      rowsByRequest.set(k, [...(rowsByRequest.get(k) ?? []), r]);
    }
    for (const [k, s] of sent) {
      const rows = rowsByRequest.get(k) ?? [];
      if (s.decision === 'refused') {
        counts.refused++;
        if (rows.length > 0) {
          counts.refusedButRecorded++;
          problem(`${k}: refused but in the ledger`);
        }
        continue;
      }
      if (s.decision === undefined) continue;
      counts.allowed++;
      const c = s.charged!;
      const consumeRows = rows.filter((r) => r.kind === 'consume');
      const paygRows = rows.filter((r) => r.kind === 'payg');
      const wantConsume = c.allowance + c.purchased > 0 ? 1 : 0;
      const wantPayg = c.payg > 0 ? 1 : 0;
      if (consumeRows.length < wantConsume || paygRows.length < wantPayg) {
        counts.lost++;
        problem(`${k}: answered ${s.decision} but missing from the ledger`);
      } else if (consumeRows.length > wantConsume || paygRows.length > wantPayg) {
        counts.duplicated++;
        problem(`${k}: in the ledger more than once`);
      } else if (
        (wantConsume && Number(consumeRows[0].millicredits) !== c.allowance + c.purchased) ||
        (wantPayg && Number(paygRows[0].millicredits) !== c.payg)
      ) {
        counts.mismatched++;
        problem(`${k}: ledger amount differs from the answer`);
      }
    }
    for (const k of rowsByRequest.keys()) {
      if (!sent.has(k)) {
        counts.recordedWithoutAnswer++;
        problem(`${k}: in the ledger, never sent`);
      }
    }

    // Per member: answers = workflow state = ledger; PAYG = ledger × rate; removed members invoiced exactly.
    const lines: {
      team_id: string;
      user_id: string;
      kind: string;
      line_key: string;
      millicredits: number;
      amount_minor: number;
      rate_micros_per_credit: number;
    }[] = await db('invoice_lines').whereIn('team_id', teamIds);
    const ledgerStore = new LedgerStore(db);
    let openLeases = 0;
    for (const m of members) {
      const mine = [...sent.values()].filter((s) => s.member === m && s.decision && s.decision !== 'refused');
      const tally = { used: 0, payg: 0 };
      for (const s of mine) {
        tally.used += s.charged!.allowance + s.charged!.purchased;
        tally.payg += s.charged!.payg;
      }
      const rows = ledger.filter((r) => r.team_id === m.teamId && r.user_id === m.userId);
      const sum = (kind: string) =>
        rows.filter((r) => r.kind === kind).reduce((acc, r) => acc + Number(r.millicredits), 0);
      const v = views.get(m)!;
      const b = v.balance;
      const who = `${m.teamId}/${m.userId}`;
      const check = (what: string, ok: boolean) => {
        if (!ok) {
          counts.mismatched++;
          problem(`${who}: ${what}`);
        }
      };
      // Overspent: credits answered beyond what the period had, or PAYG that no workflow decision wrote.
      if (tally.used > sum('grant') + sum('purchase')) {
        counts.overspent++;
        problem(`${who}: answered ${tally.used} from credits, the period had ${sum('grant') + sum('purchase')}`);
      }
      const paygFromLeases = rows.filter((r) => r.kind === 'payg' && r.lease_id !== null).length;
      if (paygFromLeases > 0 || (tally.payg > 0 && m.plan === 'free')) {
        counts.overspent++;
        problem(`${who}: PAYG the workflow did not decide`);
      }
      check(`ledger consume ${sum('consume')} ≠ answers ${tally.used}`, sum('consume') === tally.used);
      check(`ledger PAYG ${sum('payg')} ≠ answers ${tally.payg}`, sum('payg') === tally.payg);
      if (!m.removed) {
        const r = await reconcileMember({ db, client: temporal }, m.teamId, m.userId);
        for (const d of r.differences) check(`reconciliation: ${d}`, false);
        check(`state used ${r.workflow.used} ≠ answers ${tally.used}`, r.workflow.used === tally.used);
        check(`state PAYG ${b.paygCredits} ≠ answers ${tally.payg}`, b.paygCredits === tally.payg);
        openLeases += v.openLeases.length;
        const usage = await db('member_usage')
          .where({ team_id: m.teamId, user_id: m.userId, period_start: new Date(b.periodStart) })
          .first('held');
        if (b.held !== 0 || Number(usage?.held ?? 0) !== 0) {
          counts.holdsLeft++;
          problem(`${who}: holds left at the end (state ${b.held}, usage row ${usage?.held})`);
        }
      }
      check(
        `PAYG charge ${b.paygChargeMinor} ≠ ledger PAYG × rate`,
        b.paygChargeMinor === paygChargeMinor(sum('payg'), m.plan === 'basic' ? PAYG_RATE : 0, 2),
      );
      const paygLines = lines.filter((l) => l.user_id === m.userId && l.team_id === m.teamId && l.kind === 'payg');
      if (m.removed) {
        check(`removed, yet the workflow state is not`, v.removed);
        const invoiced = paygLines.reduce((acc, l) => acc + Number(l.millicredits), 0);
        const invoicedMinor = paygLines.reduce((acc, l) => acc + Number(l.amount_minor), 0);
        check(`invoiced PAYG ${invoiced} ≠ ledger ${sum('payg')}`, invoiced === sum('payg'));
        check(`invoiced ${invoicedMinor} ≠ PAYG × rate`, invoicedMinor === paygChargeMinor(sum('payg'), PAYG_RATE, 2));
        for (const r of await ledgerStore.reconcile({ teamId: m.teamId, userId: m.userId })) {
          check(`closed period does not balance: ${JSON.stringify(r)}`, periodBalances(r));
        }
      } else {
        check(`PAYG invoiced before the period closed`, paygLines.length === 0);
      }
    }
    for (const p of purchases) {
      const m = p.member;
      const rows = ledger.filter(
        (r) =>
          r.user_id === m.userId && r.team_id === m.teamId && r.kind === 'purchase' && r.request_id === p.purchaseId,
      );
      const purchaseLines = lines.filter(
        (l) => l.user_id === m.userId && l.team_id === m.teamId && l.kind === 'purchase',
      );
      const price = paygChargeMinor(25_500, PURCHASE_RATE, 2);
      const answered = p.statuses.filter((s) => s === 200 || s === 201);
      if (answered.length !== 2) {
        counts.unexpectedStatus++;
        problem(`purchase ${p.purchaseId}: answers ${p.statuses.join(', ')}`);
      }
      if (rows.length !== 1 || purchaseLines.length !== 1) {
        if (rows.length + purchaseLines.length < 2) counts.lost++;
        else counts.duplicated++;
        problem(`purchase ${p.purchaseId}: ${rows.length} ledger rows, ${purchaseLines.length} invoice lines`);
      } else if (
        Number(rows[0].millicredits) !== 25_500 ||
        Number(purchaseLines[0].amount_minor) !== price ||
        Number(rows[0].amount_minor) !== price
      ) {
        counts.mismatched++;
        problem(`purchase ${p.purchaseId}: amounts differ`);
      }
    }

    // Notifications: each decided threshold is one alert and one email per recipient, all sent.
    const alerts: { team_id: string; user_id: string; kind: string }[] = await db('alerts').whereIn('team_id', teamIds);
    const outbox: { email_key: string; kind: string; sent_at: Date | null }[] = await db('email_outbox').whereIn(
      'team_id',
      teamIds,
    );
    let expectedAlerts = 0;
    for (const m of members) {
      const decided = [...views.get(m)!.notificationsSent].sort();
      expectedAlerts += decided.length;
      const stored = alerts
        .filter((a) => a.team_id === m.teamId && a.user_id === m.userId && !PAUSE_KINDS.has(a.kind))
        .map((a) => a.kind)
        .sort();
      if (stored.join() !== decided.join()) {
        if (stored.length < decided.length) counts.lost++;
        else counts.duplicated++;
        problem(`${m.userId}: alerts ${stored.join()} vs decided ${decided.join()}`);
      }
    }
    const messageIdOf = (key: string) => `<${Buffer.from(key).toString('base64url')}@ai-credits>`;
    const delivered = new Map<string, number>();
    for (const mail of stack.mail.messages) delivered.set(mail.messageId, (delivered.get(mail.messageId) ?? 0) + 1);
    let redelivered = 0;
    for (const e of outbox) {
      const n = delivered.get(messageIdOf(e.email_key)) ?? 0;
      if (n === 0 || e.sent_at === null) {
        counts.lost++;
        problem(`email ${e.email_key}: never delivered`);
      }
      if (n > 1) redelivered += n - 1;
    }
    const known = new Set(outbox.map((e) => messageIdOf(e.email_key)));
    const strays = [...delivered.keys()].filter((id) => !known.has(id)).length;
    if (strays > 0) {
      counts.duplicated += strays;
      problem(`${strays} delivered email(s) with no outbox row`);
    }

    // Webhooks: every stored event arrived, signed, one id and one body each; every decision has its event.
    const events: { event_id: string; event_key: string; team_id: string; type: string; body: string }[] = await db(
      'webhook_events',
    ).whereIn('team_id', teamIds);
    const received = new Map<string, { team: string; body: string; n: number }>();
    for (const r of receiver.received) {
      const team = r.path.slice(1);
      let id = '';
      try {
        // Checked as the receiver would have on arrival: the run is longer than the timestamp tolerance.
        id = verifyWebhookSignature({
          secret: webhookSecrets.get(team) ?? '',
          headers: r.headers,
          body: r.body,
          now: r.at,
        }).id;
      } catch (err) {
        counts.mismatched++;
        problem(`webhook to ${team}: ${String(err)}`);
        continue;
      }
      const seen = received.get(id);
      if (seen && seen.body !== r.body) {
        counts.mismatched++;
        problem(`webhook ${id}: two bodies`);
      }
      received.set(id, { team, body: r.body, n: (seen?.n ?? 0) + 1 });
    }
    for (const e of events) {
      if (!received.has(e.event_id)) {
        counts.lost++;
        problem(`webhook event ${e.event_key}: never delivered`);
      } else if (received.get(e.event_id)!.body !== e.body) {
        counts.mismatched++;
        problem(`webhook event ${e.event_key}: delivered another body`);
      }
    }
    const strayEvents = [...received.keys()].filter((id) => !events.some((e) => e.event_id === id));
    if (strayEvents.length > 0) {
      counts.duplicated += strayEvents.length;
      problem(`${strayEvents.length} webhook(s) delivered that no event row has`);
    }
    // One event per decision, under one id: a member's thresholds (by value), PAYG start and caps; and as many pause
    // and resume events as alerts.
    const eventData = events.map((e) => ({ ...e, data: JSON.parse(e.body).data as Record<string, unknown> }));
    for (const m of members) {
      const mine = eventData.filter((e) => e.team_id === m.teamId && e.data.userId === m.userId);
      const describe = (e: (typeof mine)[number]) =>
        `${e.type}:${typeof e.data.threshold === 'number' ? e.data.threshold : (e.data.scope ?? '')}`;
      const onceKinds = mine.filter((e) => e.type !== 'member.paused' && e.type !== 'member.resumed').map(describe);
      const expected = [...views.get(m)!.notificationsSent]
        .map(
          (k) =>
            ({
              member_75: 'member.threshold_reached:75',
              member_100: 'member.threshold_reached:100',
              member_exceeded: 'member.payg_started:',
              member_payg_cap: 'member.payg_cap_reached:member',
              member_team_payg_cap: 'member.payg_cap_reached:team',
            })[k as string] ?? k,
        )
        .sort();
      if (onceKinds.sort().join() !== expected.join()) {
        if (onceKinds.length < expected.length) counts.lost++;
        else counts.duplicated++;
        problem(`${m.userId}: webhook events ${onceKinds.join()} vs decided ${expected.join()}`);
      }
      const pauseAlerts = alerts.filter(
        (a) => a.team_id === m.teamId && a.user_id === m.userId && PAUSE_KINDS.has(a.kind),
      ).length;
      const pauseEvents = mine.filter((e) => e.type === 'member.paused' || e.type === 'member.resumed').length;
      if (pauseAlerts !== pauseEvents) {
        counts.mismatched++;
        problem(`${m.userId}: ${pauseAlerts} pause/resume alerts, ${pauseEvents} events`);
      }
    }
    const repeats = [...received.values()].reduce((a, r) => a + r.n - 1, 0);

    // ---- report ----
    const c = client;
    process.stdout.write(
      [
        '',
        'Fault-injection run',
        `  faults: worker SIGKILL ×${stack.counts.workerKills}, API SIGKILL ×${stack.counts.apiKills}, ` +
          `PostgreSQL crash+restart ×${stack.counts.postgresRestarts}, Temporal restart ×${stack.counts.temporalRestarts}, ` +
          `connections dropped ×${stack.proxy.drops}; unplanned exits: worker ${stack.worker.unexpectedExits}, API ${stack.api.unexpectedExits}`,
        `  client: ${c.attempts} HTTP attempts, ${c.retries} retries (${c.timeouts} timeouts, ${c.networkErrors} ` +
          `connection errors, ${c.serverErrors} 5xx)`,
        `  consumptions: ${counts.consumptionsSent} distinct, ${counts.duplicatesSent} deliberate duplicates; ` +
          `${counts.allowed} allowed, ${counts.refused} refused; purchases ${purchases.length} (each sent twice)`,
        `  holds: ${counts.holdsSent} sent, ${counts.holdsRefused} refused; ${counts.holdsSettled} settled, ` +
          `${counts.holdsReleased} released, ${counts.holdsForgotten} left to expire`,
        `  state under faults: ${stateSeen.samples} samples, at most ${stateSeen.maxPendingRecords} unwritten records ` +
          `in one member, at most ${Math.ceil(stateSeen.maxCarriedBytes / 1024)} KiB carried (Temporal's limit: 2,048 KiB); ` +
          `failed runs: ${failedRuns.length}`,
        `  notifications: ${expectedAlerts} alerts, ${outbox.length} emails (${redelivered} SMTP redeliveries with the same Message-ID)`,
        `  webhooks: ${events.length} events, all delivered, ${repeats} repeat deliveries with the same id`,
        `  ledger rows: ${ledger.length} (consumption rows: ${fromLeases} spent from budget leases by the API, ` +
          `${consumptionRows.length - fromLeases} decided by the workflow); leases still out at the end: ${openLeases}; ` +
          `invoice lines: ${lines.length}`,
        '',
        `  lost ${counts.lost} · duplicated ${counts.duplicated} · mismatched ${counts.mismatched} · ` +
          `overspent ${counts.overspent} · ` +
          `refused but recorded ${counts.refusedButRecorded} · recorded without answer ${counts.recordedWithoutAnswer} · ` +
          `duplicate answered differently ${counts.duplicateAnsweredDifferently} · unanswered ${counts.unanswered} · ` +
          `unexpected status ${counts.unexpectedStatus} · holds left ${counts.holdsLeft}`,
        ...problems.map((p) => `  ! ${p}`),
        '',
      ].join('\n') + '\n',
    );

    // What this run did, whatever the machine's speed: load went through, some of it from leases and some
    // decided by the workflow, and every fault scheduled took place.
    expect(counts.allowed).toBeGreaterThan(0);
    expect(counts.holdsSent - counts.holdsRefused).toBeGreaterThan(0);
    expect(fromLeases).toBeGreaterThan(0);
    expect(consumptionRows.length - fromLeases).toBeGreaterThan(0);
    expect(stack.counts).toMatchObject({
      workerKills: SCHEDULED.workerKills,
      apiKills: SCHEDULED.apiKills,
      postgresRestarts: SCHEDULED.postgresRestarts,
      temporalRestarts: SCHEDULED.temporalRestarts,
    });
    expect(stack.proxy.drops).toBeGreaterThan(0);
    expect(stateSeen.samples).toBeGreaterThan(0);
    expect(stateSeen.maxCarriedBytes).toBeLessThan(PAYLOAD_LIMIT / 4);
    expect(failedRuns).toEqual([]);
    // The team's PAYG threshold email: one exactly when the ledger says team p's PAYG passed 5.00, else none.
    const teamP = teamOf('p');
    const teamPayg = ledger.filter((r) => r.team_id === teamP && r.kind === 'payg');
    const perMember = new Map<string, number>();
    for (const r of teamPayg) perMember.set(r.user_id, (perMember.get(r.user_id) ?? 0) + Number(r.millicredits));
    const teamPaygMinor = [...perMember.values()].reduce((a, mc) => a + paygChargeMinor(mc, PAYG_RATE, 2), 0);
    expect(outbox.filter((e) => e.kind === 'team_payg_threshold')).toHaveLength(teamPaygMinor > 500 ? 1 : 0);
    expect(events.filter((e) => e.type === 'team.payg_threshold_exceeded')).toHaveLength(teamPaygMinor > 500 ? 1 : 0);
    expect({
      lost: counts.lost,
      duplicated: counts.duplicated,
      mismatched: counts.mismatched,
      overspent: counts.overspent,
      refusedButRecorded: counts.refusedButRecorded,
      recordedWithoutAnswer: counts.recordedWithoutAnswer,
      duplicateAnsweredDifferently: counts.duplicateAnsweredDifferently,
      unanswered: counts.unanswered,
      unexpectedStatus: counts.unexpectedStatus,
      holdsLeft: counts.holdsLeft,
      problems,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      overspent: 0,
      refusedButRecorded: 0,
      recordedWithoutAnswer: 0,
      duplicateAnsweredDifferently: 0,
      unanswered: 0,
      unexpectedStatus: 0,
      holdsLeft: 0,
      problems: [],
    });
  } finally {
    await connection?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await receiver.stop();
    await stack.stop();
  }
});
