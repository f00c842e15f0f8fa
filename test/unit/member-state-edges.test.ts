/**
 * Edges of the member state that mutation testing (`npm run test:mutation`) found no test for: a message without a
 * body, repeats kept per kind and for five minutes after their write, the split between API instances while a lease
 * is out past its time, decisions and leases made while other leases and holds are out, settles, the team's cap not
 * asked about for credits, and plan changes that do not apply.
 */
import {
  InvalidMessageError,
  LEASE_TTL_MS,
  MemberCreditsState,
  REMEMBER_AFTER_WRITE_MS,
} from '../../workflows/member-credits/state';
import type { BudgetLease, MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = () => MemberCreditsState.open(paid, T0, 'run-1');
let n = 0;
const lease = (s: MemberCreditsState, holder: string, now = T0) =>
  s.grantLease(holder, now, 'run-1', `l${++n}`) as BudgetLease;
const consume = (s: MemberCreditsState, requestId: string, millicredits: number, now = T0) =>
  s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, now);
const reserve = (s: MemberCreditsState, reservationId: string, millicredits: number) =>
  s.reserve({ reservationId, action: 'chat', millicredits, ttlMs: 60_000 }, T0);
const drain = (s: MemberCreditsState) => s.recordsStored(s.nextRecords(100_000)!.throughSeq);

describe('a message without a body', () => {
  // An Update sent with no argument reaches the validator as undefined: a 400, not a crash in the workflow.
  it.each([
    ['consume', (s: MemberCreditsState) => s.validateConsume(undefined as never), 'requestId is required'],
    ['purchase', (s: MemberCreditsState) => s.validatePurchase(undefined as never), 'purchaseId is required'],
    ['setPayg', (s: MemberCreditsState) => s.validateSetPayg(undefined as never), 'give enabled, monthlyCapMinor'],
    ['changePlan', (s: MemberCreditsState) => s.validateChangePlan(undefined as never), 'changeId is required'],
    ['reserve', (s: MemberCreditsState) => s.validateReserve(undefined as never), 'reservationId is required'],
    ['settle', (s: MemberCreditsState) => s.validateSettle(undefined as never), 'reservationId is required'],
  ])('%s is refused as invalid', (_kind, validate, message) => {
    const s = open();
    let err: unknown;
    try {
      validate(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidMessageError);
    expect((err as Error).message).toContain(message);
  });
});

describe('remembered decisions', () => {
  it('are known by kind and id: an id decided as one kind is not known as another', () => {
    const s = open();
    consume(s, 'x', 1_000);
    expect(s.knows('consume', 'x')).toBe(true);
    expect(s.knows('purchase', 'x')).toBe(false);
    expect(s.knows('consume', 'y')).toBe(false);
  });

  it("a release is stored with the fingerprint 'release' (what the API looks a repeat up by, and older runs wrote)", () => {
    const s = open();
    reserve(s, 'h', 1_000);
    drain(s);
    s.release('h', T0);
    expect(s.nextRecords(100)!.batch.answers).toEqual([
      expect.objectContaining({ kind: 'release', requestId: 'h', fingerprint: 'release' }),
    ]);
  });

  it('stay five minutes after their answer is written, and no longer', () => {
    expect(REMEMBER_AFTER_WRITE_MS).toBe(300_000);
    const s = open();
    consume(s, 'x', 1_000);
    drain(s);
    s.forgetWritten(T0 + 5 * 60_000 - 1);
    expect(s.knows('consume', 'x')).toBe(true);
    s.forgetWritten(T0 + 5 * 60_000);
    expect(s.knows('consume', 'x')).toBe(false);
  });
});

describe('leases between API instances', () => {
  /** 100 credits spent, PAYG on (no threshold left), 10 purchased: a lease may take all that is free. */
  const pastThresholds = () => {
    const s = open();
    consume(s, 'a', 100_000);
    s.purchase({ purchaseId: 'p1', millicredits: 10_000 }, T0);
    return s;
  };

  it('another instance whose lease is still out past its time counts as present: half', () => {
    const s = pastThresholds();
    expect(lease(s, 'api-a').credits).toBe(10_000);
    s.purchase({ purchaseId: 'p2', millicredits: 10_000 }, T0);
    // api-a was seen a lease time ago, but its lease is not back yet (the expiry timer has not run).
    expect(lease(s, 'api-b', T0 + LEASE_TTL_MS).credits).toBe(5_000);
  });

  it("the same instance's own lease out does not halve its next one", () => {
    const s = pastThresholds();
    expect(lease(s, 'api-a').credits).toBe(10_000);
    s.purchase({ purchaseId: 'p2', millicredits: 10_000 }, T0);
    expect(lease(s, 'api-a', T0 + LEASE_TTL_MS).credits).toBe(10_000);
  });

  it('a lease is carved from what other leases do not hold', () => {
    const s = pastThresholds();
    lease(s, 'api-a'); // all 10
    s.purchase({ purchaseId: 'p2', millicredits: 10_000 }, T0);
    expect(lease(s, 'api-a').credits).toBe(10_000); // the 10 just bought, not 20
  });

  it('ends below the threshold counting held credits as spent', () => {
    const s = open();
    reserve(s, 'h', 10_000);
    expect(lease(s, 'api-a').credits).toBe(64_999); // 75 − 10 held − 0.001
  });

  it('the leases are needed back only when the amount might reach the threshold', () => {
    const s = open();
    const a = lease(s, 'api-a');
    s.settleLeases([{ leaseId: a.leaseId, used: 0 }], T0);
    expect(lease(s, 'api-b').credits).toBe(37_500);
    expect(s.needsLeasesBack(1)).toBe(false); // 37.501 of 75
    expect(s.needsLeasesBack(37_500)).toBe(true); // 75
  });
});

describe('a decision while leases are out', () => {
  it('spends allowance no lease holds, then PAYG', () => {
    const s = open();
    expect(lease(s, 'api-a')).toMatchObject({ credits: 74_999, allowanceCredits: 74_999 });
    expect(consume(s, 'c', 30_000).charged).toEqual({ allowance: 25_001, purchased: 0, payg: 4_999 });
  });

  it('spends purchased credits no lease holds, then PAYG', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 100_000 }, T0); // 200 credits, 75 % at 150
    expect(lease(s, 'api-a')).toMatchObject({ credits: 149_999, allowanceCredits: 100_000 });
    expect(consume(s, 'c', 60_000).charged).toEqual({ allowance: 0, purchased: 50_001, payg: 9_999 });
  });
});

describe('a settle', () => {
  it('charges the held allowance, then the held purchased credits, and counts both as used', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 100_000 }, T0);
    consume(s, 'a', 90_000);
    expect(reserve(s, 'h', 30_000).held).toEqual({ allowance: 10_000, purchased: 20_000, payg: 0 });
    expect(s.settle({ reservationId: 'h', millicredits: 25_000 }, T0).charged).toEqual({
      allowance: 10_000,
      purchased: 15_000,
      payg: 0,
    });
    expect(s.balance()).toMatchObject({ used: 115_000, held: 0, remaining: 85_000 });
    // 85 purchased credits are left, then PAYG.
    expect(consume(s, 'b', 85_001).charged).toEqual({ allowance: 0, purchased: 85_000, payg: 1 });
  });

  it("that is the period's first PAYG tells it (alert and member.payg_started)", () => {
    const s = open();
    consume(s, 'a', 99_000);
    reserve(s, 'h', 3_000); // 1 of allowance, 2 of PAYG
    drain(s);
    s.ackNotifications(s.pendingNotifications.length);
    s.settle({ reservationId: 'h', millicredits: 3_000 }, T0);
    expect(s.pendingNotifications.map((x) => x.kind)).toContain('member_exceeded');
    const events = (s.nextRecords(100)!.batch.events ?? []).map((e) => e.type);
    expect(events).toContain('member.payg_started');
  });
});

describe("the team's PAYG cap", () => {
  it('is not asked about for a request paid wholly from credits, whatever PAYG was spent before', () => {
    const s = open();
    consume(s, 'a', 101_000); // 1 credit of PAYG (its claim is not this test's business)
    s.purchase({ purchaseId: 'p', millicredits: 10_000 }, T0);
    expect(s.teamClaimFor(1_000, T0)).toBeUndefined();
    expect(s.teamClaimFor(11_000, T0)).toEqual({ claimMinor: 8, seq: 1 }); // 2 credits of PAYG in all, at $0.04
  });
});

describe('a plan change that does not apply', () => {
  const bigger = { ...paidPlan, planId: 'pro', monthlyAllowance: 200_000 };

  it('from a plan the member is not on changes nothing', () => {
    const s = open();
    expect(s.changePlan({ changeId: 'c', fromPlanId: 'other', plan: bigger, paygEnabled: null }, T0)).toBe(false);
    expect(s.view()).toMatchObject({ planId: 'basic', balance: { allowance: 100_000 } });
  });

  it('to the plan the member is on changes nothing', () => {
    const s = open();
    const same = { ...bigger, planId: 'basic' };
    expect(s.changePlan({ changeId: 'c', fromPlanId: 'basic', plan: same, paygEnabled: null }, T0)).toBe(false);
    expect(s.balance().allowance).toBe(100_000);
  });

  it('a change before any PAYG carries nothing for the old rate', () => {
    const s = open();
    const cheaper = { ...paidPlan, planId: 'cheaper', paygRateMicrosPerCredit: 30_000 };
    expect(s.changePlan({ changeId: 'c', fromPlanId: 'basic', plan: cheaper, paygEnabled: null }, T0)).toBe(true);
    expect(s.snapshot().paygAtEarlierRates).toEqual([]);
  });
});
