/**
 * Budget leases on the real Temporal dev server and PostgreSQL (spec §13): the common consumption never reaches
 * the workflow, the one that crosses a threshold does (and is notified once), two API instances share one member,
 * PAYG switched off while a lease is out, and idempotency by request id that no count of other requests expires.
 */
import { randomUUID } from 'node:crypto';
import { CreditStore } from '../../src/db/credit-store';
import { LedgerStore } from '../../src/db/ledger-store';
import { NotificationStore } from '../../src/db/notification-store';
import { reconcileMember } from '../../src/credits/reconcile';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { consumeFingerprint } from '../../workflows/member-credits/state';
import type { BudgetLease } from '../../workflows/member-credits/types';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
let ledger: LedgerStore;
beforeAll(async () => {
  h = await createHarness();
  ledger = new LedgerStore(h.db);
});
afterAll(() => h?.close());

/** Updates the member's workflow accepted so far, over all its runs. */
async function updatesOf(teamId: string, userId: string): Promise<string[]> {
  const names: string[] = [];
  let runId: string | undefined;
  for (;;) {
    const { events } = await h.client.workflow.getHandle(memberWorkflowId(teamId, userId), runId).fetchHistory();
    for (const e of events ?? []) {
      const name = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      if (name) names.push(name);
    }
    runId = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return names;
  }
}

const quiet = (teamId: string, userId: string) =>
  eventually(
    async () => {
      const v = await h.client.workflow.getHandle(memberWorkflowId(teamId, userId)).query(creditStateQuery);
      return v.pendingRecords === 0 && v.pendingDeliveries === 0 ? v : undefined;
    },
    20_000,
    `${userId}'s records and deliveries`,
  );

it('serves consumptions below a threshold from a lease; the crossing ones reach the workflow, notified once', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'lea' }] }); // basic: 400 credits, 75 % = 300
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    const answers = [];
    // 1 credit at a time: 300 reach 75 %, 400 reach 100 %, then 10 PAYG.
    for (let i = 0; i < 410; i++) {
      answers.push(await credits.consume(teamId, 'lea', { requestId: `r${i}`, action: 'chat', millicredits: 1_000 }));
    }
    expect(answers.slice(0, 400).every((a) => a.decision === 'allowed')).toBe(true);
    expect(answers.slice(400).every((a) => a.decision === 'allowed_payg')).toBe(true);
    expect(answers.map((a) => a.balance.used)).toEqual(answers.map((_, i) => Math.min(i + 1, 400) * 1_000));

    // The first consumption, the two crossings and the PAYG ones went to the workflow; the rest came from leases.
    const updates = await updatesOf(teamId, 'lea');
    expect(updates.filter((u) => u === 'consume').length).toBeLessThanOrEqual(1 + 2 + 10 + 2);
    const rows = await ledger.list({ teamId, userId: 'lea' });
    const leased = rows.filter((r) => r.kind === 'consume' && r.leaseId !== undefined);
    expect(leased.length).toBeGreaterThanOrEqual(400 - 3);

    const view = await quiet(teamId, 'lea');
    expect(view.notificationsSent).toEqual(['member_75', 'member_100', 'member_exceeded']);
    const alerts = await new NotificationStore(h.db).alertsFor(teamId, 'lea');
    expect(alerts.map((a) => a.kind).sort()).toEqual(['member_100', 'member_75', 'member_exceeded']);
    // Each notification names the spend of the consumption that crossed: exactly 75 % and 100 %.
    const notes = await h.db('alerts').where({ team_id: teamId, user_id: 'lea' }).select('kind', 'message');
    expect(notes.find((n: { kind: string }) => n.kind === 'member_75').message).toMatch(/\(300 of 400 credits\)/);
    expect(notes.find((n: { kind: string }) => n.kind === 'member_100').message).toMatch(/\(400 of 400 credits\)/);
    expect((await reconcileMember({ db: h.db, client: h.client }, teamId, 'lea')).differences).toEqual([]);
  });
});

it('two API instances spend from one member at once: every answer is counted once, nothing beyond the credits', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'two' }] });
  await h.withWorker(async (tq) => {
    const a = memberCredits(h, tq);
    const b = memberCredits(h, tq);
    await a.setPayg(teamId, 'two', { enabled: false });
    // 2 × 150 requests of 1.5 credits = 450 credits asked of 400: exactly 266 fit (399 credits), the rest is refused.
    const ask = (api: typeof a, i: number) =>
      api.consume(teamId, 'two', { requestId: `${api === a ? 'a' : 'b'}${i}`, action: 'chat', millicredits: 1_500 });
    const all = await Promise.all(Array.from({ length: 150 }, (_, i) => [ask(a, i), ask(b, i)]).flat());
    const allowed = all.filter((x) => x.decision === 'allowed').length;
    expect(allowed).toBe(266);
    expect(all.filter((x) => x.decision === 'refused').length).toBe(300 - 266);
    expect(a.leases.heldLeases().length + b.leases.heldLeases().length).toBeLessThanOrEqual(2);
    const view = await quiet(teamId, 'two');
    const r = await reconcileMember({ db: h.db, client: h.client }, teamId, 'two');
    expect(r.differences).toEqual([]);
    expect(r.ledger.used).toBe(allowed * 1_500);
    expect(view.balance.paygCredits).toBe(0);
    // Both instances were served from leases of their own.
    const holders = await h.db('budget_leases').where({ team_id: teamId }).distinct('holder');
    expect(holders).toHaveLength(2);
  });
});

it('PAYG switched off while a lease is out: the lease still serves credits, nothing goes into PAYG', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'off' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'off', { requestId: 'first', action: 'chat', millicredits: 1_000 });
    expect(credits.leases.heldLeases()).toHaveLength(1);
    await credits.setPayg(teamId, 'off', { enabled: false });
    // Within the lease: allowed at once, no Temporal call.
    const before = (await updatesOf(teamId, 'off')).length;
    expect(
      await credits.consume(teamId, 'off', { requestId: 'in', action: 'chat', millicredits: 5_000 }),
    ).toMatchObject({
      decision: 'allowed',
    });
    expect((await updatesOf(teamId, 'off')).length).toBe(before);
    // Past everything left: refused, not PAYG, from the very next consumption.
    let i = 0;
    for (;;) {
      const r = await credits.consume(teamId, 'off', { requestId: `x${i++}`, action: 'chat', millicredits: 150_000 });
      if (r.decision === 'refused') {
        expect(r.reason).toBe('insufficient_credits');
        break;
      }
      expect(r.decision).toBe('allowed');
    }
    await quiet(teamId, 'off');
    expect((await ledger.list({ teamId, userId: 'off' })).some((row) => row.kind === 'payg')).toBe(false);
  });
});

/** The API's spend from a lease, made directly with the store: `millicredits` of `chat`. */
const spender =
  (workflowId: string) =>
  (lease: BudgetLease, requestId: string, millicredits = 1_000) =>
    new CreditStore(h.db).spendFromLease(
      lease,
      { requestId, action: 'chat', millicredits, fingerprint: consumeFingerprint('chat', millicredits) },
      workflowId,
    );
/** The records that hand one lease out, as the workflow writes them. */
const handingOut = (lease: BudgetLease) => ({ entries: [], answers: [], leases: [lease], headers: [] });

it('a lease taken back before its row was written stays closed: the late write cannot open it', async () => {
  // The workflow may take a lease back (another decision needs it, or it expired) while the records that hand it
  // out are still on their way to PostgreSQL; the holder learns it from the Update once those are written.
  const teamId = await seedTeam(h, { members: [{ userId: 'late' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'late', { requestId: 'first', action: 'chat', millicredits: 1_000 });
    const [held] = credits.leases.heldLeases();
    const store = new CreditStore(h.db);
    const source = { workflowId: memberWorkflowId(teamId, 'late'), runId: held.runId };
    const spend = spender(source.workflowId);

    const late: BudgetLease = { ...held, leaseId: `${held.runId}:late`, credits: 5_000, allowanceCredits: 5_000 };
    expect(await store.closeLeases([late])).toEqual([{ leaseId: late.leaseId, used: 0 }]);
    await store.writeRecords(handingOut(late), source);
    expect(await spend(late, 'on-the-late-lease')).toEqual({ outcome: 'lease_exhausted' });
    // The same write without the close first: the lease serves (so the refusal above is the close's doing).
    const control: BudgetLease = { ...late, leaseId: `${held.runId}:control` };
    await store.writeRecords(handingOut(control), source);
    expect(await spend(control, 'on-the-control-lease')).toMatchObject({ outcome: 'spent' });
    expect(await store.closeLeases([control])).toEqual([{ leaseId: control.leaseId, used: 1_000 }]);
  });
});

it('a lease serves exactly its credits; a repeat of a lease-served request gets its first answer, on any lease', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'exact' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'exact', { requestId: 'first', action: 'chat', millicredits: 1_000 });
    const [held] = credits.leases.heldLeases();
    const store = new CreditStore(h.db);
    const workflowId = memberWorkflowId(teamId, 'exact');
    const spend = spender(workflowId);
    // 3,000 credits, of which 1,000 from the allowance: the split follows what the lease had left of each.
    const lease: BudgetLease = { ...held, leaseId: `${held.runId}:exact`, credits: 3_000, allowanceCredits: 1_000 };
    await store.writeRecords(handingOut(lease), { workflowId, runId: held.runId });
    const before = await store.usage(teamId, 'exact', held.periodStart);
    const a = await spend(lease, 'a', 1_500);
    expect(a).toMatchObject({
      outcome: 'spent',
      answer: { decision: 'allowed', charged: { allowance: 1_000, purchased: 500, payg: 0 } },
    });
    expect(a.outcome === 'spent' && a.answer.balance.used).toBe(before!.balance.used + 1_500);
    expect(await spend(lease, 'b', 1_500)).toMatchObject({
      outcome: 'spent',
      answer: { charged: { allowance: 0, purchased: 1_500 } },
    });
    // Nothing left: refused as exhausted (not an error), and nothing written for it.
    expect(await spend(lease, 'c', 1)).toEqual({ outcome: 'lease_exhausted' });
    // The same id again, from this lease or another: the first answer, nothing spent twice.
    const other: BudgetLease = { ...lease, leaseId: `${held.runId}:other`, credits: 10_000, allowanceCredits: 0 };
    await store.writeRecords(handingOut(other), { workflowId, runId: held.runId });
    for (const l of [lease, other]) {
      expect(await spend(l, 'a', 1_500)).toEqual({
        outcome: 'seen',
        stored: {
          status: 'done',
          fingerprint: consumeFingerprint('chat', 1_500),
          answer: a.outcome === 'spent' && a.answer,
        },
      });
    }
    expect(await store.closeLeases([lease, other])).toEqual([
      { leaseId: lease.leaseId, used: 3_000 },
      { leaseId: other.leaseId, used: 0 },
    ]);
    const rows = await ledger.list({ teamId, userId: 'exact' });
    expect(
      rows.filter((r) => ['a', 'b', 'c'].includes(r.requestId ?? '')).map((r) => [r.requestId, r.millicredits]),
    ).toEqual([
      ['a', 1_500],
      ['b', 1_500],
    ]);
    expect((await store.usage(teamId, 'exact', held.periodStart))!.balance.used).toBe(before!.balance.used + 3_000);
  });
});

it('remembers a request id however many other requests came after it (by time, not by count)', async () => {
  const teamId = await seedTeam(h, { plan: 'enterprise', members: [{ userId: 'mem' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    // The first request goes to the workflow (no lease yet) and is PAYG-free; then 1,100 others.
    const first = await credits.consume(teamId, 'mem', { requestId: 'X', action: 'chat', millicredits: 1 });
    for (let i = 0; i < 1_100; i++) {
      await credits.consume(teamId, 'mem', { requestId: `o${i}`, action: 'chat', millicredits: 1 });
    }
    const again = await credits.consume(teamId, 'mem', { requestId: 'X', action: 'chat', millicredits: 1 });
    expect(again).toEqual(first);
    await expect(
      credits.consume(teamId, 'mem', { requestId: 'X', action: 'chat', millicredits: 2 }),
    ).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    const rows = await ledger.list({ teamId, userId: 'mem' });
    expect(rows.filter((r) => r.requestId === 'X')).toHaveLength(1);
    expect(rows.filter((r) => r.kind === 'consume')).toHaveLength(1_101);
  });
});

it('one request id sent by two API instances at the same moment is decided once', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'dup' }] });
  await h.withWorker(async (tq) => {
    const a = memberCredits(h, tq);
    const b = memberCredits(h, tq);
    await a.consume(teamId, 'dup', { requestId: 'warm-a', action: 'chat', millicredits: 1_000 });
    await b.consume(teamId, 'dup', { requestId: 'warm-b', action: 'chat', millicredits: 1_000 });
    for (let round = 0; round < 20; round++) {
      const requestId = `same-${round}-${randomUUID().slice(0, 4)}`;
      const body = { requestId, action: 'chat', millicredits: 2_500 };
      const [x, y] = await Promise.all([a.consume(teamId, 'dup', body), b.consume(teamId, 'dup', body)]);
      expect(y).toEqual(x);
    }
    await quiet(teamId, 'dup');
    const rows = await ledger.list({ teamId, userId: 'dup' });
    const same = rows.filter((r) => r.requestId?.startsWith('same-'));
    expect(same).toHaveLength(20);
    expect((await reconcileMember({ db: h.db, client: h.client }, teamId, 'dup')).differences).toEqual([]);
  });
});
