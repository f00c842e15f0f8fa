/**
 * The keys that make each write happen once in PostgreSQL (ledger rows, answers, webhook events, alerts, invoice
 * charges) and what each carries. Their formats are part of the stored data: a key that changed between two
 * versions would write a decision, an event or a charge twice when a run replays. And what a period close leaves
 * out: no expiry row when nothing is left, no charge without PAYG, no threshold without credits.
 */
import { MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12); // in the period from 2023-12-31 (anchor 31)
const SCOPE = 't1/u1:2023-12-31';
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = (options: { paygEnabled?: boolean; paygCapMinor?: number } = {}) =>
  MemberCreditsState.open(paid, T0, 'run-1', options);
const consume = (s: MemberCreditsState, requestId: string, millicredits: number, teamCapReached = false) =>
  s.consume({ requestId, action: 'chat', millicredits, holder: 'api-1' }, T0, { teamCapReached });
const batch = (s: MemberCreditsState) => s.nextRecords(10_000)!.batch;

describe('keys', () => {
  it('of ledger rows and answers', () => {
    const s = open();
    consume(s, 'r1', 110_000);
    s.purchase({ purchaseId: 'p1', millicredits: 1_000 }, T0);
    s.reserve({ reservationId: 'h1', action: 'chat', millicredits: 2_000, ttlMs: 60_000 }, T0);
    s.settle({ reservationId: 'h1', millicredits: 1_500 }, T0); // 1 purchased, 0.5 PAYG
    s.reserve({ reservationId: 'h2', action: 'chat', millicredits: 1_000, ttlMs: 60_000 }, T0);
    s.release('h2', T0);
    const b = batch(s);
    expect(b.entries.map((e) => e.entryKey)).toEqual([
      `${SCOPE}:grant:run-1`,
      `${SCOPE}:consume:r1`,
      `${SCOPE}:payg:r1`,
      `${SCOPE}:purchase:p1`,
      `${SCOPE}:consume:r:h1`,
      `${SCOPE}:payg:r:h1`,
    ]);
    expect(b.answers.map((a) => [a.kind, a.requestId, a.fingerprint])).toEqual([
      ['consume', 'r1', 'chat:110000'],
      ['purchase', 'p1', 'purchase:1000'],
      ['reserve', 'h1', 'reserve:chat:2000'],
      ['settle', 'h1', 'settle:1500'],
      ['reserve', 'h2', 'reserve:chat:1000'],
      ['release', 'h2', 'release'],
    ]);
    // What PostgreSQL keeps of an answer: the decision, not whether it was a repeat.
    expect(b.answers[0]).toEqual({
      kind: 'consume',
      periodStart: s.periodStart,
      requestId: 'r1',
      fingerprint: 'chat:110000',
      answer: { decision: 'allowed_payg', charged: { allowance: 100_000, purchased: 0, payg: 10_000 } },
    });
    expect(b.entries[1]).toMatchObject({ teamId: 't1', userId: 'u1', action: 'chat', occurredAt: T0 });
  });

  it('of webhook events and alerts', () => {
    const s = open({ paygEnabled: true, paygCapMinor: 40 });
    consume(s, 'a', 80_000);
    consume(s, 'b', 25_000); // 100 % and PAYG
    consume(s, 'c', 10_000); // past the member's cap
    s.setPayg({ monthlyCapMinor: null }, T0);
    consume(s, 'd', 1_000, true); // the team's cap
    s.setPayg({ enabled: false }, T0); // paused
    const events = batch(s).events!;
    expect(events.map((e) => e.eventKey)).toEqual([
      `${SCOPE}:member.threshold_reached:75`,
      `${SCOPE}:member.threshold_reached:100`,
      `${SCOPE}:member.payg_started:first`,
      `${SCOPE}:member.payg_cap_reached:member`,
      `${SCOPE}:member.payg_cap_reached:team`,
      `${SCOPE}:member.paused:run-1:1`,
    ]);
    expect(events[0]).toMatchObject({ threshold: 75, used: 80_000, total: 100_000, continuesWithPayg: true });
    expect(events[2]).toMatchObject({ rateMicrosPerCredit: 40_000 });
    expect(events[4]).toMatchObject({ scope: 'team', capMinor: null });
    expect(events[5]).toMatchObject({
      teamId: 't1',
      userId: 'u1',
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      planId: 'basic',
      currency: 'USD',
      occurredAt: T0,
    });
    expect(s.pendingNotifications.map((n) => n.notificationKey)).toEqual([
      `${SCOPE}:member_75`,
      `${SCOPE}:member_100`,
      `${SCOPE}:member_exceeded`,
      `${SCOPE}:member_payg_cap`,
      `${SCOPE}:member_team_payg_cap`,
      `${SCOPE}:member_paused:run-1:1`,
    ]);
    expect(s.pendingNotifications[1]).toEqual({
      notificationKey: `${SCOPE}:member_100`,
      teamId: 't1',
      userId: 'u1',
      kind: 'member_100',
      periodStart: s.periodStart,
      periodEnd: s.periodEnd,
      usedMillicredits: 100_000, // PAYG is not counted as used credits
      totalMillicredits: 100_000,
      continuesWithPayg: true,
      currencyExponent: 2,
      occurredAt: T0,
    });
  });

  it('of invoice charges, with their descriptions', () => {
    const s = open();
    consume(s, 'a', 110_000);
    const pro = { ...paidPlan, planId: 'pro', paygRateMicrosPerCredit: 30_000 };
    s.changePlan({ changeId: 'c', fromPlanId: 'basic', plan: pro, paygEnabled: null }, T0);
    consume(s, 'b', 5_000);
    s.purchase({ purchaseId: 'p1', millicredits: 2_000 }, T0);
    s.rollOver('run-2');
    expect(s.pendingCharges.map((c) => [c.chargeKey, c.kind, c.amountMinor, c.description])).toEqual([
      [`${SCOPE}:purchase:p1`, 'purchase', 6, 'AI credits purchase for u1'],
      [`${SCOPE}:payg:run-1:rate:40000`, 'payg', 40, 'AI credits pay-as-you-go for u1 at USD 0.04 per credit'],
      [`${SCOPE}:payg:run-1`, 'payg', 15, 'AI credits pay-as-you-go for u1 at USD 0.03 per credit'],
    ]);
    expect(s.pendingCharges[2]).toMatchObject({
      teamId: 't1',
      userId: 'u1',
      periodEnd: s.periodStart,
      millicredits: 5_000,
      rateMicrosPerCredit: 30_000,
      currency: 'USD',
      occurredAt: s.periodStart,
    });
  });
});

describe('what a period close leaves out', () => {
  it('no expiry row when every credit was used, no charge without PAYG', () => {
    const s = open();
    consume(s, 'a', 100_000);
    s.rollOver('run-2');
    expect(batch(s).entries.map((e) => e.kind)).toEqual(['grant', 'consume', 'grant']);
    expect(s.pendingCharges).toEqual([]);
  });

  it('no thresholds on a plan without credits: PAYG from the first one', () => {
    const s = MemberCreditsState.open({ ...paid, plan: { ...paidPlan, monthlyAllowance: 0 } }, T0, 'run-1');
    expect(consume(s, 'a', 1_000).decision).toBe('allowed_payg');
    const thresholds = s.pendingNotifications.filter((n) => n.kind === 'member_75' || n.kind === 'member_100');
    expect(thresholds).toEqual([]);
    // Its first PAYG is told all the same (alert and payg_started event), once.
    consume(s, 'b', 1_000);
    expect(s.pendingNotifications.map((n) => n.kind)).toEqual(['member_exceeded']);
    const events = s.snapshot().pendingRecords.flatMap((i) => i.events ?? []);
    expect(events.map((e) => e.type)).toEqual(['member.payg_started']);
    expect(s.grantLease('api-1', T0, 'run-1', 'l')).toBeUndefined();
  });
});
