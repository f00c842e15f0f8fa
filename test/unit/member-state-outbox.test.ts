/**
 * The member state's outboxes and usage header: which records a decision queues (a header-only record when no
 * ledger row changes), their sequence numbers and versions, what a batch carries, and how acknowledgements drain
 * the charges, notifications and emails.
 */
import { periodContaining } from '../../workflows/domain/periods';
import { MAX_PENDING_RECORDS, MemberCreditsState } from '../../workflows/member-credits/state';
import type { MemberIdentity } from '../../workflows/member-credits/types';
import { paidPlan } from '../support/plans';

const T0 = Date.UTC(2024, 0, 10, 12);
const paid: MemberIdentity = { teamId: 't1', userId: 'u1', billingAnchorDay: 31, plan: paidPlan };
const open = (identity = paid) => MemberCreditsState.open(identity, T0, 'run-1');
const records = (s: MemberCreditsState) => s.snapshot().pendingRecords;
const entryKinds = (s: MemberCreditsState) => records(s).flatMap((r) => r.entries.map((e) => e.kind));
/** The newest usage header, as the next batch would write it. */
const header = (s: MemberCreditsState) => s.nextRecords(10_000)?.batch.headers.at(-1);
const drain = (s: MemberCreditsState) => {
  const next = s.nextRecords(10_000);
  if (next) s.recordsStored(next.throughSeq);
};

describe('records queued without a ledger row', () => {
  it('opens a period without allowance with a header record only', () => {
    const s = open({ ...paid, plan: { ...paidPlan, monthlyAllowance: 0 } });
    expect(records(s)).toEqual([{ seq: 1, entries: [], answers: [], leases: [] }]);
    expect(header(s)).toMatchObject({ version: 1, planId: 'basic', paygEnabled: true });
  });

  it('resumes a period with nothing expired with a header record at the next version', () => {
    const s = MemberCreditsState.open(paid, T0, 'run-2', {
      resume: {
        periodStart: periodContaining(T0, 31).start,
        allowance: 100_000,
        purchased: 0,
        used: 10_000,
        paygCredits: 0,
        expired: 0,
        notified: [],
        version: 7,
      },
    });
    expect(records(s)).toEqual([{ seq: 8, entries: [], answers: [], leases: [] }]);
    expect(s.recordsPushed).toBe(8);
    expect(s.balance()).toMatchObject({ used: 10_000, remaining: 90_000 });
  });

  it('renews into a plan without allowance with a header record, no grant', () => {
    const s = open();
    drain(s);
    const before = s.recordsPushed;
    s.rollOver('run-2', { ...paidPlan, planId: 'payg-only', monthlyAllowance: 0 });
    expect(entryKinds(s)).toEqual(['expire']); // the closed period's; nothing granted in the new one
    expect(s.recordsPushed).toBe(before + 2);
    expect(records(s).at(-1)).toEqual({ seq: before + 2, entries: [], answers: [], leases: [] });
    expect(header(s)).toMatchObject({ planId: 'payg-only', version: before + 2 });
  });

  it('a plan change that does not grow the allowance queues a header with the new plan, no adjustment', () => {
    const s = open();
    drain(s);
    const smaller = { ...paidPlan, planId: 'lite', monthlyAllowance: 60_000 };
    expect(s.changePlan({ changeId: 'c', fromPlanId: 'basic', plan: smaller, paygEnabled: null }, T0)).toBe(true);
    expect(records(s)).toEqual([{ seq: 2, entries: [], answers: [], leases: [] }]);
    expect(header(s)).toMatchObject({ planId: 'lite', version: 2 });
    expect(s.balance().allowance).toBe(100_000); // a smaller plan does not shrink the period
  });

  it('the header counts what holds may still spend as PAYG', () => {
    const s = open();
    s.consume({ requestId: 'a', action: 'chat', millicredits: 95_000, holder: 'api-1' }, T0);
    s.reserve({ reservationId: 'h', action: 'chat', millicredits: 8_000, ttlMs: 60_000 }, T0);
    expect(header(s)).toMatchObject({ held: 8_000, heldPayg: 3_000 });
  });
});

describe('writing records', () => {
  it('batches at most the items asked for, through the last one taken', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 1_000 }, T0);
    const first = s.nextRecords(1);
    expect(first?.throughSeq).toBe(1);
    expect(first?.batch.entries.map((e) => e.kind)).toEqual(['grant']);
    expect(first?.batch.headers).toHaveLength(1);
    expect(s.nextRecords(10)?.throughSeq).toBe(s.recordsPushed);
  });

  it('is written through the highest sequence stored, never going back', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 1_000 }, T0); // records 2 (entry) and 3 (answer)
    expect(s.isWritten(1)).toBe(false);
    expect(s.hasPendingRecords()).toBe(true);
    s.recordsStored(2);
    expect([s.isWritten(1), s.isWritten(2), s.isWritten(3)]).toEqual([true, true, false]);
    expect(s.nextRecords(10)?.throughSeq).toBe(3);
    s.recordsStored(3);
    s.recordsStored(1); // a late acknowledgement of older records
    expect(s.isWritten(3)).toBe(true);
    expect(s.hasPendingRecords()).toBe(false);
    expect(s.nextRecords(10)).toBeUndefined();
  });
});

describe('back-pressure', () => {
  it(`refuses new decisions from ${MAX_PENDING_RECORDS} records waiting, not before`, () => {
    const s = open(); // the grant: 1 record
    for (let i = 1; i < MAX_PENDING_RECORDS - 1; i++) s.setPayg({ monthlyCapMinor: null }, T0); // 1 record each
    const ask = { requestId: 'r', action: 'chat', millicredits: 1, holder: 'api-1' };
    expect(() => s.validateConsume(ask)).not.toThrow();
    s.setPayg({ monthlyCapMinor: null }, T0);
    expect(s.view().pendingRecords).toBe(MAX_PENDING_RECORDS);
    expect(() => s.validateConsume(ask)).toThrow(`${MAX_PENDING_RECORDS} ledger writes are waiting for delivery`);
  });
});

describe('deliveries', () => {
  it('queues each email once and acknowledges them oldest first', () => {
    const s = open();
    drain(s);
    expect(s.hasPendingWork()).toBe(false);
    s.queueEmails(['a', 'b', 'a']);
    s.queueEmails(['b', 'c']);
    expect(s.pendingEmails).toEqual(['a', 'b', 'c']);
    expect(s.hasPendingWork()).toBe(true);
    s.ackEmails(2);
    expect(s.pendingEmails).toEqual(['c']);
    expect(s.pendingDeliveries()).toBe(1);
  });

  it('acknowledges notifications and charges oldest first', () => {
    const s = open();
    s.purchase({ purchaseId: 'p', millicredits: 1_000 }, T0);
    s.consume({ requestId: 'a', action: 'chat', millicredits: 101_000, holder: 'api-1' }, T0); // 75 %, 100 %
    drain(s);
    expect(s.pendingNotifications.map((n) => n.kind)).toEqual(['member_75', 'member_100']);
    s.ackNotifications(1);
    expect(s.pendingNotifications.map((n) => n.kind)).toEqual(['member_100']);
    expect(s.hasPendingWork()).toBe(true);
    s.ackNotifications(1);
    expect(s.pendingCharges).toHaveLength(1);
    expect(s.hasPendingWork()).toBe(true);
    s.ackCharges(1);
    expect(s.hasPendingWork()).toBe(false);
    expect(s.pendingDeliveries()).toBe(0);
  });
});

describe('view', () => {
  it('shows the member, the leases out (as copies) and the outboxes', () => {
    const s = open();
    const lease = s.grantLease('api-1', T0, 'run-1', 'l1');
    const v = s.view();
    expect(v).toMatchObject({
      teamId: 't1',
      userId: 'u1',
      planId: 'basic',
      removed: false,
      notificationsSent: [],
      pendingRecords: 2,
      pendingDeliveries: 0,
      carriedBytes: JSON.stringify(s.snapshot()).length,
    });
    expect(v.openLeases).toEqual([lease]);
    v.openLeases[0].credits = 0;
    expect(s.leases[0].credits).toBe(lease?.credits);
  });
});
