/**
 * What the member state answers and records beyond the decision itself: the repeat flag, how long a written answer
 * is remembered, repeats of one kind not passing for another, the notified list wherever it is shown, the closed
 * period's header, lease rows, ledger rows of PAYG-only spends, and asking about the team's cap without telling
 * anyone.
 */
import { MAX_PENDING_RECORDS, MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = () => MemberCreditsState.open(paid, T0, 'run-1');
const ask = (requestId: string, millicredits: number) => ({ requestId, action: 'chat', millicredits, holder: 'a' });
const reserve = (reservationId: string, millicredits: number) => ({
  reservationId,
  action: 'chat',
  millicredits,
  ttlMs: 60_000,
});
const drain = (s: MemberCreditsState) => s.recordsStored(s.nextRecords(100_000)!.throughSeq);

describe('answers', () => {
  it('a first decision is no repeat; the same request again is one, with the first answer', () => {
    const s = open();
    const decisions = [
      () => s.consume(ask('c', 1_000), T0),
      () => s.purchase({ purchaseId: 'p', millicredits: 1_000 }, T0),
      () => s.reserve(reserve('h', 1_000), T0),
      () => s.settle({ reservationId: 'h', millicredits: 500 }, T0),
      () => s.reserve(reserve('r', 1_000), T0),
      () => s.release('r', T0),
    ];
    for (const decide of decisions) {
      const first = decide();
      expect(first.duplicate).toBe(false);
      expect(decide()).toEqual({ ...first, duplicate: true });
    }
    s.setPayg({ enabled: false }, T0);
    s.consume(ask('rest', s.balance().remaining), T0);
    expect(s.consume(ask('refused', 1_000), T0)).toMatchObject({ decision: 'refused', duplicate: false });
    s.setPayg({ monthlyCapMinor: 0, enabled: true }, T0);
    expect(s.reserve(reserve('too-much', 1_000), T0)).toMatchObject({ decision: 'refused', duplicate: false });
  });

  it('is remembered longer than the API may take to ask again after its look-up (30 s)', () => {
    const s = open();
    s.consume(ask('c', 1_000), T0);
    drain(s);
    s.forgetWritten(T0 + 30_000);
    expect(s.knows('consume', 'c')).toBe(true);
  });

  it('a decision of one kind does not make a request of another kind a repeat', () => {
    const big: MemberIdentity = { ...paid, plan: { ...paidPlan, monthlyAllowance: 10_000_000 } };
    const s = MemberCreditsState.open(big, T0, 'run-1');
    s.reserve(reserve('h', 1_000), T0);
    while (s.recordsPushed < MAX_PENDING_RECORDS) s.setPayg({ monthlyCapMinor: null }, T0);
    expect(() => s.validateReserve(reserve('h', 1_000))).not.toThrow(); // a repeat
    expect(() => s.validateSettle({ reservationId: 'h', millicredits: 1 })).toThrow(/retry shortly/);
    expect(() => s.validateRelease('h')).toThrow(/retry shortly/);
  });
});

describe('records', () => {
  it('shows the notified list in the view and the usage header', () => {
    const s = open();
    s.consume(ask('c', 80_000), T0);
    expect(s.view().notificationsSent).toEqual(['member_75']);
    expect(s.nextRecords(100)?.batch.headers.at(-1)?.notified).toEqual(['member_75']);
  });

  it("writes the closed period's header before the new one's", () => {
    const s = open();
    drain(s);
    const closing = { start: s.periodStart, end: s.periodEnd };
    s.rollOver('run-2');
    const headers = s.nextRecords(100)!.batch.headers;
    expect(headers.map((h) => [h.periodStart, h.periodEnd])).toEqual([
      [closing.start, closing.end],
      [s.periodStart, s.periodEnd],
    ]);
  });

  it('queues a lease row with the lease', () => {
    const s = open();
    drain(s);
    const l = s.grantLease('api-1', T0, 'run-1', 'l1');
    expect(s.nextRecords(100)!.batch.leases).toEqual([l]);
  });

  it('a spend that is all PAYG is one PAYG row, no consume row', () => {
    const s = open();
    s.consume(ask('all', 100_000), T0);
    drain(s);
    s.consume(ask('payg', 1_000), T0);
    expect(s.nextRecords(100)!.batch.entries.map((e) => `${e.kind}:${e.millicredits}`)).toEqual(['payg:1000']);
  });

  it('a settle that is the first PAYG of the period tells that PAYG started', () => {
    const s = open();
    s.consume(ask('all', 99_000), T0);
    s.reserve(reserve('h', 2_000), T0);
    s.settle({ reservationId: 'h', millicredits: 2_000 }, T0);
    expect(s.pendingNotifications.map((n) => n.kind)).toContain('member_exceeded');
  });

  it('closes a removed member once, and only with every lease back', () => {
    const s = open();
    s.grantLease('api-1', T0, 'run-1', 'l1');
    expect(() => s.remove(T0)).toThrow('leases must be settled before the member is removed');
    s.settleLeases([{ leaseId: 'l1', used: 0 }], T0);
    s.remove(T0);
    s.remove(T0 + 1);
    const expiries = s.snapshot().pendingRecords.flatMap((r) => r.entries.filter((e) => e.kind === 'expire'));
    expect(expiries).toHaveLength(1);
  });
});

describe('spending beside a lease', () => {
  it('what a lease holds of the allowance is not free; a decision takes purchased credits first', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 50_000 }, T0); // 150 credits: 75 % at 112.5
    const l = s.grantLease('api-1', T0, 'run-1', 'l1')!;
    expect(l).toMatchObject({ credits: 112_499, allowanceCredits: 100_000 });
    expect(s.consume(ask('c', 10_000), T0).charged).toEqual({ allowance: 0, purchased: 10_000, payg: 0 });
    expect(s.consume(ask('d', 30_000), T0).charged).toEqual({ allowance: 0, purchased: 27_501, payg: 2_499 });
  });
});

describe("asking about the team's cap", () => {
  it('tells no one: only a decision notifies a cap', () => {
    const s = open();
    s.setPayg({ monthlyCapMinor: 0 }, T0);
    s.consume(ask('all', 100_000), T0);
    const before = s.pendingNotifications.length;
    expect(s.teamClaimFor(1_000, T0)).toBeUndefined();
    expect(s.pendingNotifications).toHaveLength(before);
  });
});
