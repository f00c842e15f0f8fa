/**
 * Where a member state starts: a member added again resumes the period they left (only that period), and a run
 * carrying a snapshot of older code fills in the fields added since.
 */
import { paygChargeMinor } from '../../workflows/domain/money';
import { periodContaining } from '../../workflows/domain/periods';
import { MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity, MemberSnapshot, ResumedPeriod } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const period = periodContaining(T0, 31);
const resumed = (extra: Partial<ResumedPeriod> = {}): ResumedPeriod => ({
  periodStart: period.start,
  allowance: 100_000,
  purchased: 5_000,
  used: 0,
  paygCredits: 0,
  expired: 0,
  notified: [],
  version: 3,
  ...extra,
});
const events = (s: MemberCreditsState) =>
  s
    .snapshot()
    .pendingRecords.flatMap((r) => r.events ?? [])
    .map((e) => e.type);

describe('resuming a period', () => {
  it('resumes only the period it was left in; another period opens afresh', () => {
    const earlier = resumed({ periodStart: period.start - 1, used: 80_000, version: 9 });
    const s = MemberCreditsState.open(paid, T0, 'run-2', { resume: earlier });
    expect(s.balance()).toMatchObject({ allowance: 100_000, purchased: 0, used: 0 });
    expect(s.recordsPushed).toBe(1);
  });

  it('spends what is left of the purchased credits once the allowance is used up', () => {
    // 103 used of 100 allowance + 5 purchased: 2 purchased credits are left, and no PAYG.
    const s = MemberCreditsState.open(paid, T0, 'run-2', {
      paygEnabled: false,
      resume: resumed({ used: 103_000 }),
    });
    const ask = (requestId: string, millicredits: number) =>
      s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, T0);
    expect(ask('a', 3_000)).toMatchObject({ decision: 'refused', reason: 'insufficient_credits' });
    expect(ask('b', 2_000)).toMatchObject({
      decision: 'allowed',
      charged: { allowance: 0, purchased: 2_000, payg: 0 },
    });
  });

  it('spends the allowance left first when less than the allowance was used', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-2', { resume: resumed({ used: 40_000 }) });
    const r = s.consume({ requestId: 'a', action: 'chat', millicredits: 62_000, holder: 'api-1' }, T0);
    expect(r.charged).toEqual({ allowance: 60_000, purchased: 2_000, payg: 0 });
  });

  it('does not bill the PAYG of the run that was removed again, and counts it for the team cap', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-2', {
      paygCapMinor: 100,
      resume: resumed({ used: 105_000, paygCredits: 5_000 }),
    });
    expect(s.balance()).toMatchObject({ paygCredits: 5_000, paygChargeMinor: 20, paygCapMinor: 100 });
    // The removed run's PAYG is already claimed on the team's cap: only the growth is asked for.
    expect(s.teamClaimFor(1_000, T0)).toEqual({ claimMinor: paygChargeMinor(6_000, 40_000), seq: 1 });
    expect(s.teamClaimRelease()).toBeUndefined();
    s.consume({ requestId: 'a', action: 'chat', millicredits: 2_500, holder: 'api-1' }, T0);
    s.rollOver('run-3');
    expect(s.pendingCharges.map((c) => [c.millicredits, c.amountMinor])).toEqual([[2_500, 10]]);
  });

  it('keeps the PAYG setting and the cap it is opened with', () => {
    const off = MemberCreditsState.open(paid, T0, 'run-1', { paygEnabled: false });
    expect(off.balance()).toMatchObject({ paygEnabled: false, paygCapMinor: null });
    const capped = MemberCreditsState.open(paid, T0, 'run-1', { paygCapMinor: 0 });
    expect(capped.balance()).toMatchObject({ paygEnabled: true, paygCapMinor: 0 });
  });
});

describe('a snapshot of older code', () => {
  /** A snapshot as code before `paygAtEarlierRates`, `pauseChanges` and `paused` wrote it. */
  const older = (s: MemberCreditsState) => {
    const snap: Partial<MemberSnapshot> = s.snapshot();
    delete snap.paygAtEarlierRates;
    delete snap.pauseChanges;
    delete snap.paused;
    return MemberCreditsState.fromSnapshot(snap as MemberSnapshot);
  };

  it('knows a paused member is paused: a refusal is no new pause', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.setPayg({ enabled: false }, T0);
    s.consume({ requestId: 'a', action: 'chat', millicredits: 100_000, holder: 'api-1' }, T0);
    expect(events(s).filter((t) => t === 'member.paused')).toHaveLength(1);
    const restored = older(s);
    expect(restored.snapshot()).toMatchObject({ paused: true, pauseChanges: 0, paygAtEarlierRates: [] });
    restored.consume({ requestId: 'b', action: 'chat', millicredits: 1, holder: 'api-1' }, T0);
    expect(events(restored).filter((t) => t === 'member.paused')).toHaveLength(1);
    restored.setPayg({ enabled: true }, T0);
    expect(restored.pendingNotifications.at(-1)?.notificationKey).toMatch(/:member_resumed:run-1:1$/);
  });

  it('bills PAYG before and after a plan change at their rates', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.consume({ requestId: 'a', action: 'chat', millicredits: 105_000, holder: 'api-1' }, T0);
    const restored = older(s);
    const pro = { ...paidPlan, planId: 'pro', paygRateMicrosPerCredit: 30_000 };
    restored.changePlan({ changeId: 'c', fromPlanId: 'basic', plan: pro, paygEnabled: null }, T0);
    restored.consume({ requestId: 'b', action: 'chat', millicredits: 10_000, holder: 'api-1' }, T0);
    restored.rollOver('run-2');
    expect(restored.pendingCharges.map((c) => [c.millicredits, c.rateMicrosPerCredit])).toEqual([
      [5_000, 40_000],
      [10_000, 30_000],
    ]);
  });
});
