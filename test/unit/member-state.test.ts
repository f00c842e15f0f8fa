import fc from 'fast-check';
import { paygChargeMinor } from '../../workflows/domain/money';
import { periodContaining } from '../../workflows/domain/periods';
import { IDEMPOTENCY_WINDOW, MAX_WRITTEN_THROUGH_ACKS, MemberCreditsState } from '../../workflows/member-credits/state';
import type { ConsumeInput, MemberIdentity } from '../../workflows/member-credits/types';
import { freePlan, paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const free: MemberIdentity = { ...paid, plan: freePlan };
const consume = (s: MemberCreditsState, requestId: string, millicredits: number) =>
  s.consume({ requestId, action: 'write_tests', millicredits }, T0);

describe('MemberCreditsState', () => {
  it('opens the period containing now with a full allowance and a grant row', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    const period = periodContaining(T0, 31);
    expect(s.balance()).toMatchObject({
      periodStart: period.start,
      periodEnd: period.end,
      remaining: 100_000,
      paused: false,
      paygEnabled: true,
    });
    expect(s.pendingLedger).toEqual([expect.objectContaining({ kind: 'grant', millicredits: 100_000 })]);
  });

  it('spends allowance, then purchased credits, then PAYG', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.purchase({ purchaseId: 'p1', millicredits: 10_000 }, T0);
    expect(consume(s, 'r1', 95_000).charged).toEqual({ allowance: 95_000, purchased: 0, payg: 0 });
    expect(consume(s, 'r2', 10_000).charged).toEqual({ allowance: 5_000, purchased: 5_000, payg: 0 });
    const r3 = consume(s, 'r3', 7_500);
    expect(r3.decision).toBe('allowed_payg');
    expect(r3.charged).toEqual({ allowance: 0, purchased: 5_000, payg: 2_500 });
    expect(r3.balance).toMatchObject({ remaining: 0, paygCredits: 2_500, paygChargeMinor: 10 });
    const kinds = s.pendingLedger.map((e) => `${e.kind}:${e.millicredits}`);
    expect(kinds).toEqual([
      'grant:100000',
      'purchase:10000',
      'consume:95000',
      'consume:10000',
      'consume:5000',
      'payg:2500',
    ]);
  });

  it('returns the first answer for a repeated requestId and changes nothing', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    const first = consume(s, 'same', 30_000);
    const again = consume(s, 'same', 99_000);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(s.balance().used).toBe(30_000);
    expect(s.pendingLedger.filter((e) => e.kind === 'consume')).toHaveLength(1);
  });

  it('keeps idempotency across a snapshot (continue-as-new) and bounds its memory', () => {
    const s = MemberCreditsState.open({ ...paid, plan: { ...paidPlan, monthlyAllowance: 10_000_000 } }, T0, 'run-1');
    for (let i = 0; i < IDEMPOTENCY_WINDOW + 10; i++) consume(s, `r${i}`, 1);
    const restored = MemberCreditsState.fromSnapshot(s.snapshot());
    expect(restored.snapshot().recentConsumptions).toHaveLength(IDEMPOTENCY_WINDOW);
    expect(consume(restored, `r${IDEMPOTENCY_WINDOW + 9}`, 1).duplicate).toBe(true);
    expect(restored.balance().used).toBe(IDEMPOTENCY_WINDOW + 10);
  });

  it('refuses without recording when PAYG is off: insufficient, then paused', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.setPayg(false);
    consume(s, 'r1', 90_000);
    const before = s.pendingLedger.length;
    expect(consume(s, 'r2', 20_000)).toMatchObject({ decision: 'refused', reason: 'insufficient_credits' });
    consume(s, 'r3', 10_000);
    expect(consume(s, 'r4', 1)).toMatchObject({ decision: 'refused', reason: 'paused', balance: { paused: true } });
    expect(s.pendingLedger.length).toBe(before + 1);
    expect(s.setPayg(true).paused).toBe(false);
    expect(consume(s, 'r5', 1).decision).toBe('allowed_payg');
    expect(s.setPayg(false).paused).toBe(true);
  });

  it('free plans have no PAYG and no purchases', () => {
    const s = MemberCreditsState.open(free, T0, 'run-1');
    expect(s.balance()).toMatchObject({ paygEnabled: false, paygAvailable: false });
    expect(() => s.validateSetPayg(true)).toThrow(/not available/);
    expect(() => s.validatePurchase({ purchaseId: 'p', millicredits: 1000 })).toThrow(/does not allow/);
    consume(s, 'r1', 50_000);
    expect(consume(s, 'r2', 1)).toMatchObject({ decision: 'refused', reason: 'paused' });
  });

  it.each([
    [{ requestId: '', action: 'chat', millicredits: 1 }, /requestId/],
    [{ requestId: 'a b', action: 'chat', millicredits: 1 }, /requestId/],
    [{ requestId: 'x'.repeat(129), action: 'chat', millicredits: 1 }, /requestId/],
    [{ requestId: 'r', action: 'rm -rf', millicredits: 1 }, /unknown action/],
    [{ requestId: 'r', action: 'chat', millicredits: 0 }, /positive/],
    [{ requestId: 'r', action: 'chat', millicredits: 1.5 }, /positive/],
    [{ requestId: 'r', action: 'chat', millicredits: -1 }, /positive/],
    [{ requestId: 'r', action: 'chat', millicredits: 200_001 }, /maximum/],
  ])('validator rejects %j', (input, message) => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    expect(() => s.validateConsume(input)).toThrow(message);
  });

  it('notifies 75 %, 100 % and exceeded once each, with the PAYG outcome in the 100 % message', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    consume(s, 'a', 74_999);
    expect(s.pendingNotifications).toHaveLength(0);
    consume(s, 'b', 1);
    consume(s, 'c', 1_000);
    expect(s.pendingNotifications.map((n) => n.kind)).toEqual(['member_75']);
    consume(s, 'd', 24_000);
    consume(s, 'e', 5_000);
    consume(s, 'f', 5_000);
    expect(s.pendingNotifications.map((n) => n.kind)).toEqual(['member_75', 'member_100', 'member_exceeded']);
    expect(s.pendingNotifications[1].continuesWithPayg).toBe(true);
  });

  it('renews at the period end without rollover: expiry, PAYG charge, fresh grant; PAYG setting carries', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.purchase({ purchaseId: 'p1', millicredits: 5_000 }, T0);
    consume(s, 'r1', 110_000);
    s.setPayg(true);
    const oldEnd = s.periodEnd;
    s.ackLedger(s.pendingLedger.map((e) => e.entryKey));
    s.ackCharges(s.pendingCharges.length);
    s.rollOver('run-2');
    expect(s.pendingLedger.map((e) => `${e.kind}:${e.millicredits}`)).toEqual(['grant:100000']);
    expect(s.pendingCharges).toEqual([
      expect.objectContaining({
        kind: 'payg',
        millicredits: 5_000,
        amountMinor: paygChargeMinor(5_000, 40_000),
        periodEnd: oldEnd,
      }),
    ]);
    expect(s.balance()).toMatchObject({
      periodStart: oldEnd,
      allowance: 100_000,
      purchased: 0,
      used: 0,
      paygCredits: 0,
      paygEnabled: true,
    });
    expect(s.view().notificationsSent).toEqual([]);
  });

  it('expires unused allowance and purchases', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.purchase({ purchaseId: 'p1', millicredits: 5_000 }, T0);
    consume(s, 'r1', 1_000);
    s.rollOver('run-2');
    expect(s.pendingLedger.filter((e) => e.kind === 'expire').map((e) => e.millicredits)).toEqual([104_000]);
  });

  it('drops only consume entries the caller wrote through; grants, purchases and PAYG rows stay', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    s.purchase({ purchaseId: 'p1', millicredits: 1_000 }, T0);
    consume(s, 'r1', 60_000);
    consume(s, 'r2', 45_000); // 40 from the allowance, 1 purchased, 4 PAYG
    const keys = s.pendingLedger.map((e) => e.entryKey);
    expect(s.pendingLedger.map((e) => e.kind)).toEqual(['grant', 'purchase', 'consume', 'consume', 'payg']);
    s.acknowledgeWrittenThrough([...keys, 'not-pending', keys[2]]);
    expect(s.pendingLedger.map((e) => e.kind)).toEqual(['grant', 'purchase', 'payg']);
    expect(s.hasUrgentLedger()).toBe(true);
    s.ackLedger([keys[0], keys[4]]);
    expect(s.pendingLedger.map((e) => e.kind)).toEqual(['purchase']);
    s.ackLedger(['purchase-not-this-one']);
    expect(s.pendingLedger).toHaveLength(1);
  });

  it('tells when the oldest waiting entry happened and whether anything must be written at once', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    expect(s.hasUrgentLedger()).toBe(true); // the grant
    s.ackLedger(s.pendingLedger.map((e) => e.entryKey));
    expect(s.oldestPendingLedgerAt()).toBeUndefined();
    s.consume({ requestId: 'a', action: 'chat', millicredits: 1 }, T0 + 5_000);
    s.consume({ requestId: 'b', action: 'chat', millicredits: 1 }, T0 + 9_000);
    expect(s.hasUrgentLedger()).toBe(false);
    expect(s.oldestPendingLedgerAt()).toBe(T0 + 5_000);
    s.acknowledgeWrittenThrough([s.pendingLedger[0].entryKey]);
    expect(s.oldestPendingLedgerAt()).toBe(T0 + 9_000);
  });

  it.each([
    [{ writtenThrough: 'k' }, /writtenThrough must be a list/],
    [{ writtenThrough: Array.from({ length: MAX_WRITTEN_THROUGH_ACKS + 1 }, (_, i) => `k${i}`) }, /at most 256/],
    [{ writtenThrough: ['ok', ''] }, /invalid entry key/],
    [{ writtenThrough: [42] }, /invalid entry key/],
    [{ writtenThrough: ['x'.repeat(513)] }, /invalid entry key/],
  ])('refuses a malformed write-through acknowledgement %#', (extra, message) => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    const input = { requestId: 'r', action: 'chat', millicredits: 1, ...extra } as unknown as ConsumeInput;
    expect(() => s.validateConsume(input)).toThrow(message);
    expect(() =>
      s.validateConsume({ requestId: 'r', action: 'chat', millicredits: 1, writtenThrough: ['a', 'b'] }),
    ).not.toThrow();
  });

  it('removal closes the period early and accepts nothing more', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-1');
    consume(s, 'r1', 1_000);
    s.remove(T0 + 1000);
    expect(s.pendingLedger.at(-1)).toMatchObject({ kind: 'expire', millicredits: 99_000 });
    expect(() => s.validateConsume({ requestId: 'r2', action: 'chat', millicredits: 1 })).toThrow(/removed/);
  });
});

/**
 * Property: the state agrees with a small reference model over random message sequences, and the ledger
 * it emits always balances (grants + purchases − consumption − expiry = 0 once the period closes).
 */
describe('MemberCreditsState against a reference model', () => {
  type Cmd =
    | { t: 'consume'; id: number; amount: number }
    | { t: 'payg'; enabled: boolean }
    | { t: 'purchase'; id: number; amount: number };
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('consume' as const),
        id: fc.nat(40),
        amount: fc.integer({ min: 1, max: 60_000 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('payg' as const), enabled: fc.boolean() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('purchase' as const),
        id: fc.nat(5),
        amount: fc.integer({ min: 1, max: 30_000 }),
      }),
    },
  );

  it('matches the model and balances the ledger', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 80 }), (cmds) => {
        const s = MemberCreditsState.open(paid, T0, 'run-1');
        const m = {
          allowance: 100_000,
          purchased: 0,
          used: 0,
          payg: 0,
          payGo: true,
          seen: new Map<string, string>(),
          buys: new Set<number>(),
        };
        for (const c of cmds) {
          if (c.t === 'payg') {
            s.setPayg(c.enabled);
            m.payGo = c.enabled;
          } else if (c.t === 'purchase') {
            s.purchase({ purchaseId: `p${c.id}`, millicredits: c.amount }, T0);
            if (!m.buys.has(c.id)) {
              m.buys.add(c.id);
              m.purchased += c.amount;
            }
          } else {
            const key = `r${c.id}`;
            const r = s.consume({ requestId: key, action: 'chat', millicredits: c.amount }, T0);
            const expected = m.seen.get(key);
            if (expected) {
              expect(r.decision).toBe(expected);
              continue;
            }
            const left = m.allowance + m.purchased - m.used;
            let decision: string;
            if (c.amount <= left) {
              m.used += c.amount;
              decision = 'allowed';
            } else if (m.payGo) {
              m.payg += c.amount - left;
              m.used += left;
              decision = 'allowed_payg';
            } else decision = 'refused';
            m.seen.set(key, decision);
            expect(r.decision).toBe(decision);
          }
          const b = s.balance();
          expect([b.used, b.purchased, b.paygCredits, b.paused]).toEqual([
            m.used,
            m.purchased,
            m.payg,
            m.allowance + m.purchased - m.used === 0 && !m.payGo,
          ]);
        }
        s.rollOver('run-2');
        const sum = (kind: string) =>
          s.pendingLedger
            .filter((e) => e.kind === kind && e.periodEnd === s.periodStart)
            .reduce((a, e) => a + e.millicredits, 0);
        expect(sum('grant') + sum('purchase') - sum('consume') - sum('expire')).toBe(0);
        expect(sum('payg')).toBe(m.payg);
        const charged = s.pendingCharges.filter((c) => c.kind === 'payg').reduce((a, c) => a + c.millicredits, 0);
        expect(charged).toBe(m.payg);
      }),
      { numRuns: 300 },
    );
  });
});
