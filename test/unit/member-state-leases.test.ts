/**
 * Budget leases at their edges: the period end and removal, the threshold with purchases, the split between API
 * instances (who counts as another instance, and for how long), what a returned lease may claim to have spent, and
 * when a decision needs the leases back.
 */
import { LEASE_TTL_MS, leaseTtl, MemberCreditsState } from '../../workflows/member-credits/state';
import type { BudgetLease, MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = () => MemberCreditsState.open(paid, T0, 'run-1');
let n = 0;
const lease = (s: MemberCreditsState, holder = 'api-1', now = T0) =>
  s.grantLease(holder, now, 'run-1', `l${++n}`) as BudgetLease;
const consume = (s: MemberCreditsState, requestId: string, millicredits: number) =>
  s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, T0);

describe('granting leases', () => {
  it('grants none at or after the period end, nor to a removed member', () => {
    const s = open();
    expect(s.grantLease('api-1', s.periodEnd, 'run-1', 'late')).toBeUndefined();
    expect(lease(s, 'api-1', s.periodEnd - 1)).toMatchObject({ expiresAt: s.periodEnd });
    const removed = open();
    removed.remove(T0);
    expect(removed.grantLease('api-1', T0, 'run-1', 'gone')).toBeUndefined();
  });

  it('spreads the expiries of leases handed out at one instant over the last fifth of the lease time', () => {
    // 200 members' first leases at the same moment (a billing date): their times differ, by id, not by chance.
    const expiries = Array.from({ length: 200 }, (_, i) => {
      const s = MemberCreditsState.open({ ...paid, userId: `u${i}` }, T0, 'run-1');
      return (s.grantLease('api-1', T0, 'run-1', `ai-credits/member/t1/u${i}:run-1:1`) as BudgetLease).expiresAt;
    });
    for (const at of expiries) {
      expect(at).toBeGreaterThan(T0 + LEASE_TTL_MS * 0.8);
      expect(at).toBeLessThanOrEqual(T0 + LEASE_TTL_MS);
    }
    expect(new Set(expiries).size).toBeGreaterThan(190);
    const slice = (at: number) => Math.floor((at - T0 - LEASE_TTL_MS * 0.8) / 15_000); // four 15 s slices
    expect(new Set(expiries.map(slice)).size).toBe(4);
    expect(leaseTtl('same-id')).toBe(leaseTtl('same-id'));
  });

  it('keeps the lease time of every id as it was: a changed function would move the timers of running members', () => {
    // FNV-1a of the id, modulo a fifth of the lease time, taken off it (the replayed timers depend on these).
    expect(
      ['', 'a', 'ai-credits/member/t1/u1:run-1:1', 'ai-credits/member/team-7/alice:0f3c:12'].map(leaseTtl),
    ).toEqual([283_739, 257_780, 247_478, 268_823]);
  });

  it('ends below 75 % of allowance plus purchases, rounded up', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 1 }, T0); // 100.001 credits: 75 % is 75.00075, reached at 75.001
    expect(lease(s).credits).toBe(75_000);
  });

  it('carves a lease from the allowance first, then purchased credits, and settles its spend the same way', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 20_000 }, T0);
    consume(s, 'a', 95_000); // 75 % of 120 is behind: 5 allowance and 20 purchased left, next stop 100 %
    const l = lease(s);
    expect(l).toMatchObject({ credits: 24_999, allowanceCredits: 5_000 });
    s.settleLeases([{ leaseId: l.leaseId, used: 8_000 }], T0);
    // 5 of allowance and 3 purchased were spent: 17 purchased are left, then PAYG.
    expect(consume(s, 'b', 17_001).charged).toEqual({ allowance: 0, purchased: 17_000, payg: 1 });
  });

  it('leaves a second instance half of what is free, rounded up', () => {
    const s = open();
    consume(s, 'a', 1); // 74.998 free below 75 %
    const a = lease(s, 'api-a');
    s.settleLeases([{ leaseId: a.leaseId, used: 0 }], T0);
    expect(lease(s, 'api-b').credits).toBe(Math.ceil(74_998 / 2));
  });

  it('counts another instance as present while its lease is out, and for a lease time after it was seen', () => {
    const fresh = (holder: string, at: number) => {
      const s = open();
      const a = lease(s, 'api-a', T0);
      s.settleLeases([{ leaseId: a.leaseId, used: 0 }], T0);
      return lease(s, holder, at).credits;
    };
    expect(fresh('api-b', T0 + LEASE_TTL_MS - 1)).toBe(37_500); // api-a served lately: half
    expect(fresh('api-b', T0 + LEASE_TTL_MS)).toBe(74_999); // api-a is long gone: all
    expect(fresh('api-a', T0 + 1)).toBe(74_999); // the same instance again is not another one
  });

  it('remembers the last 16 instances that asked', () => {
    const s = open();
    for (let i = 0; i < 20; i++) {
      const l = s.grantLease(`api-${i}`, T0 + i, 'run-1', `l-${i}`);
      if (l) s.settleLeases([{ leaseId: l.leaseId, used: 0 }], T0 + i);
    }
    expect(s.snapshot().recentHolders.map((r) => r.holder)).toEqual(
      Array.from({ length: 16 }, (_, i) => `api-${i + 4}`),
    );
  });
});

describe('returned leases', () => {
  it('count at most the lease, never less than nothing, in whole millicredits', () => {
    const spent = (used: number) => {
      const s = open();
      const l = lease(s);
      s.settleLeases([{ leaseId: l.leaseId, used }], T0);
      return s.balance().used;
    };
    expect(spent(80_000)).toBe(74_999);
    expect(spent(-5)).toBe(0);
    expect(spent(12.9)).toBe(12);
  });

  it('settles several at once and pauses a member whose last credit a lease spent after PAYG was turned off', () => {
    const s = open();
    consume(s, 'a', 100_000); // 75 % and 100 % are behind, PAYG on: a lease may take all that is left
    s.purchase({ purchaseId: 'p', millicredits: 10_000 }, T0);
    const l = lease(s);
    expect(l.credits).toBe(10_000);
    s.setPayg({ enabled: false }, T0);
    expect(s.balance().paused).toBe(false);
    s.settleLeases([], T0);
    expect(s.balance().paused).toBe(false);
    s.settleLeases(
      [
        { leaseId: 'unknown', used: 5 },
        { leaseId: l.leaseId, used: 10_000 },
      ],
      T0,
    );
    expect(s.leases).toEqual([]);
    expect(s.balance()).toMatchObject({ used: 110_000, paused: true });
    expect(s.pendingNotifications.at(-1)).toMatchObject({ kind: 'member_paused', reason: 'credits_exhausted' });
  });
});

describe('needing the leases back', () => {
  it('never without leases out, whatever the amount', () => {
    const s = open();
    consume(s, 'a', 70_000);
    expect(s.needsLeasesBack(10_000)).toBe(false); // crosses 75 %
    expect(s.needsLeasesBack(200_000)).toBe(false); // beyond the credits
  });

  it('when the amount may not fit beside what the leases hold', () => {
    const s = open();
    consume(s, 'a', 100_000); // no threshold left with PAYG on
    s.purchase({ purchaseId: 'p', millicredits: 10_000 }, T0);
    const a = lease(s, 'api-a');
    s.settleLeases([{ leaseId: a.leaseId, used: 0 }], T0);
    expect(lease(s, 'api-b').credits).toBe(5_000); // api-a served lately: half
    expect(s.needsLeasesBack(5_000)).toBe(false);
    expect(s.needsLeasesBack(5_001)).toBe(true);
  });

  it('when the amount reaches the next threshold counting everything leased as spent', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 100_000 }, T0); // 200 credits: 75 % at 150
    const l = lease(s); // 149.999 out
    s.settleLeases([{ leaseId: l.leaseId, used: 0 }], T0);
    const a = s.grantLease('api-1', T0, 'run-1', 'small') as BudgetLease;
    expect(a.credits).toBe(149_999);
    expect(s.needsLeasesBack(1)).toBe(true); // 149.999 + 0.001 reaches 150
    const t = open();
    t.purchase({ purchaseId: 'p', millicredits: 100_000 }, T0);
    consume(t, 'x', 100_000);
    const b = lease(t); // 49.999 below 75 %
    t.settleLeases([{ leaseId: b.leaseId, used: 0 }], T0);
    lease(t, 'api-1');
    expect(t.needsLeasesBack(1)).toBe(true);
  });
});
