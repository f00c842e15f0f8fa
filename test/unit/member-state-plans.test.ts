/**
 * Plan changes and renewals at their edges: PAYG spent at several rates (one invoice line per rate, also when a
 * rate comes back), a change that keeps the rate, a downgrade to a plan without PAYG, and what a renewal resets.
 */
import { paygChargeMinor } from '../../workflows/domain/money';
import type { PlanTerms } from '../../workflows/domain/plans';
import { MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity } from '../../workflows/member-credits/types';
import { freePlan, paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const SCOPE = 't1/u1:2023-12-31';
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = () => MemberCreditsState.open(paid, T0, 'run-1');
const consume = (s: MemberCreditsState, requestId: string, millicredits: number) =>
  s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, T0);
const change = (s: MemberCreditsState, from: string, plan: PlanTerms, paygEnabled: boolean | null = null) =>
  s.changePlan({ changeId: `to-${plan.planId}`, fromPlanId: from, plan, paygEnabled }, T0);
const plan = (planId: string, paygRateMicrosPerCredit: number): PlanTerms => ({
  ...paidPlan,
  planId,
  paygRateMicrosPerCredit,
});

describe('PAYG at several rates', () => {
  it('one line per rate, also when a rate comes back after another', () => {
    const s = open();
    consume(s, 'a', 101_000); // 1 credit at 0.04
    change(s, 'basic', plan('b', 30_000));
    consume(s, 'b', 2_000); // 2 at 0.03
    change(s, 'b', plan('c', 40_000));
    consume(s, 'c', 3_000); // 3 at 0.04
    change(s, 'c', plan('d', 50_000));
    consume(s, 'd', 4_000); // 4 at 0.05
    expect(s.balance().paygChargeMinor).toBe(16 + 6 + 20);
    s.rollOver('run-2');
    expect(s.pendingCharges.map((c) => [c.chargeKey, c.millicredits, c.amountMinor])).toEqual([
      [`${SCOPE}:payg:run-1:rate:40000`, 4_000, paygChargeMinor(4_000, 40_000)],
      [`${SCOPE}:payg:run-1:rate:30000`, 2_000, paygChargeMinor(2_000, 30_000)],
      [`${SCOPE}:payg:run-1`, 4_000, paygChargeMinor(4_000, 50_000)],
    ]);
  });

  it('a change that keeps the rate keeps one line', () => {
    const s = open();
    consume(s, 'a', 101_000);
    change(s, 'basic', plan('same-rate', 40_000));
    consume(s, 'b', 1_000);
    s.rollOver('run-2');
    expect(s.pendingCharges.map((c) => [c.chargeKey, c.millicredits])).toEqual([[`${SCOPE}:payg:run-1`, 2_000]]);
  });

  it('a change before any PAYG keeps one line at the new rate', () => {
    const s = open();
    change(s, 'basic', plan('cheaper', 30_000));
    consume(s, 'a', 101_000);
    s.rollOver('run-2');
    expect(s.pendingCharges.map((c) => [c.millicredits, c.rateMicrosPerCredit])).toEqual([[1_000, 30_000]]);
  });
});

describe('PAYG on a plan change', () => {
  it('a plan without PAYG turns it off, whatever Billing said', () => {
    const s = open();
    expect(change(s, 'basic', freePlan, true)).toBe(true);
    expect(s.balance()).toMatchObject({ paygEnabled: false, paygAvailable: false });
  });

  it("a member whose plan had PAYG keeps their setting, not Billing's default", () => {
    const s = open();
    s.setPayg({ enabled: false }, T0);
    change(s, 'basic', plan('pro', 30_000), true);
    expect(s.balance().paygEnabled).toBe(false);
  });
});

describe('a renewal', () => {
  it("turns PAYG off on a plan without it, and the team's claim starts again from nothing", () => {
    const s = open();
    consume(s, 'a', 100_000);
    const claim = s.teamClaimFor(1_000, T0)!;
    s.teamClaimed(claim);
    s.rollOver('run-2');
    consume(s, 'b', 100_000);
    expect(s.teamClaimFor(1_000, s.periodStart)).toEqual({ claimMinor: 4, seq: claim.seq + 1 });
    s.rollOver('run-3', freePlan);
    expect(s.balance()).toMatchObject({ paygEnabled: false, allowance: freePlan.monthlyAllowance });
  });

  it('counts pauses afresh in the new period', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1', { paygEnabled: false });
    consume(s, 'a', 100_000); // paused: the period's first change
    s.rollOver('run-2');
    expect(s.pendingNotifications.at(-1)).toMatchObject({
      kind: 'member_resumed',
      reason: 'period_renewed',
      notificationKey: `t1/u1:2024-01-31:member_resumed:run-2:1`,
    });
  });

  it('renews at the billing date itself, and posts only its own charges (a purchase queued before stays for its lane)', () => {
    const s = open();
    s.purchase({ purchaseId: 'p1', millicredits: 10_000 }, T0);
    consume(s, 'a', 111_000); // 100 allowance + 10 purchased, then 1 into PAYG: a charge at the period end
    const end = s.periodEnd;
    const posted = s.renew('run-2', paidPlan, end, []);
    expect(s.periodStart).toBe(end);
    expect(posted.map((c) => c.kind)).toEqual(['payg']);
    expect(s.pendingCharges.map((c) => c.kind)).toEqual(['purchase', 'payg']);
    s.renewalChargesPosted(posted.length);
    expect(s.pendingCharges.map((c) => c.kind)).toEqual(['purchase']);
  });

  it('made from the renewal snapshot (the activity) and from the state (the workflow) pushes the same records', () => {
    for (const withPayg of [false, true]) {
      const s = open();
      const lease = withPayg ? undefined : s.grantLease('api-1', T0, 'run-1', 'run-1:1')!;
      if (withPayg) consume(s, 'a', 101_000); // PAYG: a charge at the period end
      // A hold still out at the period end (released by the renewal) and a remembered answer (not sent along).
      if (!withPayg) s.reserve({ reservationId: 'h1', action: 'chat', millicredits: 2_000, ttlMs: 60_000 }, T0);
      s.recordsStored(s.recordsPushed);
      const pendingBefore = s.pendingCharges.length;
      const copy = MemberCreditsState.fromSnapshot(s.renewalSnapshot());
      const closed = lease ? [{ leaseId: lease.leaseId, used: 5_000 }] : [];
      const later = s.periodEnd + 31 * 86_400_000 + 1; // two billing dates passed (a worker down for a month)
      const posted = copy.renew('run-2', freePlan, later, closed);
      expect(s.renew('run-2', freePlan, later, closed)).toEqual(posted);
      expect(posted.length).toBe(withPayg ? 1 : 0);
      const written = copy.nextRecords(Number.MAX_SAFE_INTEGER)!;
      expect(s.nextRecords(Number.MAX_SAFE_INTEGER)).toEqual(written);
      expect(written.batch.entries.filter((e) => e.kind === 'grant')).toHaveLength(2);
      expect(written.batch.answers.map((a) => a.requestId)).toEqual(withPayg ? [] : ['h1']);
      expect(written.batch.entries.find((e) => e.kind === 'expire')?.millicredits).toBe(withPayg ? 50_000 : 95_000);
      // What the activity wrote and posted is off the outboxes; charges queued before stay for their lane.
      s.recordsStored(written.throughSeq);
      s.renewalChargesPosted(posted.length);
      expect(s.hasPendingRecords()).toBe(false);
      expect(s.pendingCharges).toHaveLength(pendingBefore);
      expect(s.balance()).toMatchObject({ allowance: freePlan.monthlyAllowance, used: 0, paygCredits: 0 });
    }
  });
});
