/**
 * Reservations and PAYG caps at their edges: a charge exactly at the cap, claims on the team's cap that do not
 * grow, why a reservation is no longer held, which request a conflicting repeat names, and holds at the period end.
 */
import { MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = () => MemberCreditsState.open(paid, T0, 'run-1');
const consume = (s: MemberCreditsState, requestId: string, millicredits: number) =>
  s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, T0);
const reserve = (s: MemberCreditsState, reservationId: string, millicredits: number, ttlMs = 60_000) =>
  s.reserve({ reservationId, action: 'chat', millicredits, ttlMs }, T0);
function thrown(fn: () => unknown): { name: string; message: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
}

describe("the member's PAYG cap", () => {
  it('allows a charge of exactly the cap, refuses one minor unit more', () => {
    const s = open();
    s.setPayg({ monthlyCapMinor: 4 }, T0);
    consume(s, 'a', 100_000);
    expect(consume(s, 'b', 1_124).decision).toBe('allowed_payg'); // 4.496 cents → 4
    expect(consume(s, 'c', 1)).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached' }); // 4.5 → 5
  });

  it('counts a hold that may become PAYG against the cap', () => {
    const s = open();
    s.setPayg({ monthlyCapMinor: 4 }, T0);
    consume(s, 'a', 100_000);
    expect(reserve(s, 'h', 1_000)).toMatchObject({ decision: 'held', held: { payg: 1_000 } });
    expect(consume(s, 'b', 125)).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached' });
    expect(reserve(s, 'h2', 125)).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached', expiresAt: 0 });
  });
});

describe("claims on the team's PAYG cap", () => {
  it('asks only when the claim grows, and gives back only when it shrinks', () => {
    const s = open();
    consume(s, 'a', 100_000);
    const first = s.teamClaimFor(1_000, T0)!;
    expect(first).toEqual({ claimMinor: 4, seq: 1 });
    s.teamClaimed(first);
    consume(s, 'b', 1_000);
    expect(s.teamClaimFor(100, T0)).toBeUndefined(); // 4.4 cents: still 4
    expect(s.teamClaimRelease()).toBeUndefined();
    expect(s.teamClaimFor(125, T0)).toEqual({ claimMinor: 5, seq: 2 });
    s.setPayg({ enabled: false }, T0);
    expect(s.teamClaimFor(125, T0)).toBeUndefined(); // refused anyway: nothing to ask
  });
});

describe('a reservation no longer held', () => {
  it('says whether it was settled, released or expired', () => {
    const s = open();
    reserve(s, 'settled', 1_000);
    s.settle({ reservationId: 'settled', millicredits: 500 }, T0);
    reserve(s, 'released', 1_000);
    s.release('released', T0);
    reserve(s, 'expired', 1_000, 5_000);
    expect(s.expireHolds(T0 + 4_999)).toBe(0);
    expect(s.expireHolds(T0 + 5_000)).toBe(1);
    const notHeld = (id: string, how: string) => ({
      name: 'ReservationNotHeldError',
      message: `reservation ${id} is not held (${how})`,
    });
    expect(thrown(() => s.release('settled', T0))).toEqual(notHeld('settled', 'settled'));
    expect(thrown(() => s.settle({ reservationId: 'released', millicredits: 1 }, T0))).toEqual(
      notHeld('released', 'released'),
    );
    expect(thrown(() => s.settle({ reservationId: 'expired', millicredits: 1 }, T0))).toEqual(
      notHeld('expired', 'expired'),
    );
    expect(s.release('released', T0)).toEqual({ released: 1_000, how: 'released', duplicate: true });
  });

  it('a repeat with another body names the request', () => {
    const s = open();
    consume(s, 'r', 1_000);
    s.purchase({ purchaseId: 'p', millicredits: 1_000 }, T0);
    reserve(s, 'h', 1_000);
    s.settle({ reservationId: 'h', millicredits: 500 }, T0);
    const conflict = (what: string) => ({
      name: 'IdempotencyConflictError',
      message: `${what} was used before with a different request body`,
    });
    expect(thrown(() => consume(s, 'r', 2_000))).toEqual(conflict('requestId r'));
    expect(thrown(() => s.purchase({ purchaseId: 'p', millicredits: 2_000 }, T0))).toEqual(conflict('purchaseId p'));
    expect(thrown(() => reserve(s, 'h', 2_000))).toEqual(conflict('reserve of reservationId h'));
    expect(thrown(() => s.settle({ reservationId: 'h', millicredits: 400 }, T0))).toEqual(
      conflict('settle of reservationId h'),
    );
  });
});

describe('holds and the period', () => {
  it('every hold goes back, as expired, when the period closes or the member leaves', () => {
    const s = open();
    reserve(s, 'a', 1_000);
    reserve(s, 'b', 2_000);
    s.rollOver('run-2');
    expect(s.holds).toEqual([]);
    const answers = s.snapshot().remembered.filter((r) => r.kind === 'release');
    expect(answers.map((r) => [r.requestId, r.result])).toEqual([
      ['a', { released: 1_000, how: 'expired', duplicate: false }],
      ['b', { released: 2_000, how: 'expired', duplicate: false }],
    ]);
    const t = open();
    reserve(t, 'c', 1_000);
    t.remove(T0 + 1);
    expect(t.holds).toEqual([]);
    expect(t.snapshot().pendingRecords.at(-1)?.entries).toEqual([
      expect.objectContaining({ kind: 'expire', millicredits: 100_000, occurredAt: T0 + 1 }),
    ]);
  });

  it('the next expiry is the earliest lease or hold', () => {
    const s = open();
    expect(s.nextExpiry()).toBeUndefined();
    reserve(s, 'late', 1_000, 120_000);
    reserve(s, 'early', 1_000, 30_000);
    expect(s.nextExpiry()).toBe(T0 + 30_000);
  });
});
