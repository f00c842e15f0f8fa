/**
 * The member workflow on the real Temporal dev server with the real PostgreSQL ledger and an SMTP listener.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { InvoiceStore } from '../../src/db/invoice-store';
import { NotificationStore } from '../../src/db/notification-store';
import { memberWorkflowId } from '../../workflows/ids';
import { consumeCreditsUpdate, creditStateQuery } from '../../workflows/member-credits/messages';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
let ledger: LedgerStore;
let invoices: InvoiceStore;
let notes: NotificationStore;

beforeAll(async () => {
  h = await createHarness();
  ledger = new LedgerStore(h.db);
  invoices = new InvoiceStore(h.db);
  notes = new NotificationStore(h.db);
});
afterAll(() => h?.close());

const service = (taskQueue: string) => memberCredits(h, taskQueue);
const rowsOf = async (teamId: string, userId: string, count: number) =>
  eventually(
    async () => {
      const rows = await ledger.list({ teamId, userId });
      return rows.length >= count ? rows : undefined;
    },
    20_000,
    `${count} ledger rows`,
  );

describe('member credits workflow (dev server)', () => {
  it('answers a repeated requestId with the first answer and writes one ledger row', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'ann' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      const first = await credits.consume(teamId, 'ann', {
        requestId: 'req-1',
        action: 'write_tests',
        millicredits: 2_500,
      });
      const again = await credits.consume(teamId, 'ann', {
        requestId: 'req-1',
        action: 'write_tests',
        millicredits: 2_500,
      });
      await expect(
        credits.consume(teamId, 'ann', { requestId: 'req-1', action: 'write_tests', millicredits: 9_000 }),
      ).rejects.toMatchObject({ code: 'idempotency_key_reused' });
      expect(first).toMatchObject({ decision: 'allowed', balance: { used: 2_500 } });
      expect(again).toEqual(first);
      const rows = await rowsOf(teamId, 'ann', 2);
      expect(rows.map((r) => `${r.kind}:${r.millicredits}:${r.requestId ?? ''}`)).toEqual([
        'grant:400000:',
        'consume:2500:req-1',
      ]);
    });
  });

  it('counts 50 concurrent consumptions on one member exactly once', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'bob' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      await credits.members.ensureStarted(teamId, 'bob');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          credits.consume(teamId, 'bob', { requestId: `c-${i}`, action: 'chat', millicredits: 1_000 + i }),
        ),
      );
      // The same 50 again, concurrently: all duplicates.
      const repeats = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          credits.consume(teamId, 'bob', { requestId: `c-${i}`, action: 'chat', millicredits: 1_000 + i }),
        ),
      );
      expect(answers.every((a) => a.decision === 'allowed')).toBe(true);
      expect(repeats).toEqual(answers);
      const expected = Array.from({ length: 50 }, (_, i) => 1_000 + i).reduce((a, b) => a + b, 0);
      expect((await credits.balance(teamId, 'bob')).balance.used).toBe(expected);
      const rows = await rowsOf(teamId, 'bob', 51);
      const consumed = rows.filter((r) => r.kind === 'consume');
      expect(consumed).toHaveLength(50);
      expect(new Set(consumed.map((r) => r.requestId)).size).toBe(50);
      expect(consumed.reduce((a, r) => a + r.millicredits, 0)).toBe(expected);
    });
  });

  it('pauses with PAYG off, resumes when turned on, and bills the overage', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'cat' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      await credits.setPayg(teamId, 'cat', { enabled: false });
      expect(
        await credits.consume(teamId, 'cat', { requestId: 'a', action: 'chat', millicredits: 200_000 }),
      ).toMatchObject({ decision: 'allowed' });
      expect(
        await credits.consume(teamId, 'cat', { requestId: 'b', action: 'chat', millicredits: 200_000 }),
      ).toMatchObject({ decision: 'allowed' });
      const refused = await credits.consume(teamId, 'cat', { requestId: 'c', action: 'chat', millicredits: 1 });
      expect(refused).toMatchObject({ decision: 'refused', reason: 'paused', balance: { paused: true, remaining: 0 } });
      expect((await credits.setPayg(teamId, 'cat', { enabled: true })).balance.paused).toBe(false);
      const payg = await credits.consume(teamId, 'cat', { requestId: 'd', action: 'chat', millicredits: 12_500 });
      expect(payg).toMatchObject({
        decision: 'allowed_payg',
        charged: { payg: 12_500 },
        balance: { paygCredits: 12_500, paygChargeMinor: 50 },
      });
      expect((await credits.setPayg(teamId, 'cat', { enabled: false })).balance.paused).toBe(true);
      expect(await credits.consume(teamId, 'cat', { requestId: 'e', action: 'chat', millicredits: 1 })).toMatchObject({
        decision: 'refused',
        reason: 'paused',
      });
      const rows = await rowsOf(teamId, 'cat', 4);
      expect(rows.map((r) => r.kind)).toEqual(['grant', 'consume', 'consume', 'payg']);
      expect(rows.some((r) => r.requestId === 'c' || r.requestId === 'e')).toBe(false);
    });
  });

  it('adds purchased credits, spends them after the allowance and posts the purchase to the invoice', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'dan' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      const bought = await credits.purchase(teamId, 'dan', 'buy-1', 50_000);
      expect(bought).toMatchObject({ amountMinor: 175, balance: { purchased: 50_000, remaining: 450_000 } });
      expect((await credits.purchase(teamId, 'dan', 'buy-1', 50_000)).duplicate).toBe(true);
      await expect(credits.purchase(teamId, 'dan', 'buy-1', 60_000)).rejects.toMatchObject({
        code: 'idempotency_key_reused',
      });
      const r = await credits.consume(teamId, 'dan', { requestId: 'x', action: 'chat', millicredits: 199_000 });
      await credits.consume(teamId, 'dan', { requestId: 'y', action: 'chat', millicredits: 199_000 });
      const z = await credits.consume(teamId, 'dan', { requestId: 'z', action: 'chat', millicredits: 10_000 });
      expect(r.charged).toEqual({ allowance: 199_000, purchased: 0, payg: 0 });
      expect(z.charged).toEqual({ allowance: 2_000, purchased: 8_000, payg: 0 });
      const open = await eventually(async () => {
        const [inv] = await invoices.list(teamId);
        return inv && inv.totalMinor === 175 ? inv : undefined;
      });
      const lines = (await invoices.get(teamId, open.invoiceId))!.lines;
      expect(lines).toEqual([expect.objectContaining({ kind: 'purchase', millicredits: 50_000, amountMinor: 175 })]);
    });
  });

  it('sends each notification once: alerts, member emails and admin/billing emails', async () => {
    const teamId = await seedTeam(h, {
      members: [
        { userId: 'eve' },
        { userId: 'boss', roles: ['admin'] },
        { userId: 'payer', roles: ['billing', 'member'] },
      ],
    });
    h.mail.clear();
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      for (let i = 0; i < 12; i++) {
        await credits.consume(teamId, 'eve', { requestId: `n-${i}`, action: 'chat', millicredits: 40_000 });
      }
      const alerts = await eventually(async () => {
        const a = await notes.alertsFor(teamId, 'eve');
        return a.length >= 3 ? a : undefined;
      });
      expect(alerts.map((a) => a.kind).sort()).toEqual(['member_100', 'member_75', 'member_exceeded']);
      expect(alerts.find((a) => a.kind === 'member_100')!.message).toMatch(/continues with pay-as-you-go/);
      const mails = await eventually(async () => {
        const m = h.mail.messages.filter((x) => x.to.some((t) => t.endsWith(`@${teamId}.example`)));
        return m.length >= 7 ? m : undefined;
      });
      await new Promise((r) => setTimeout(r, 500));
      const got = h.mail.messages
        .filter((x) => x.to.some((t) => t.endsWith(`@${teamId}.example`)))
        .map((m) => `${m.to[0].split('@')[0]}: ${m.subject}`)
        .sort();
      expect(mails.length).toBeGreaterThanOrEqual(7);
      expect(got).toEqual(
        [
          "eve: You've used 75% of your AI credits",
          "eve: You've used all of your AI credits",
          "eve: You've exceeded your AI credit limit",
          'boss: eve has used 75% of their AI credits',
          'payer: eve has used 75% of their AI credits',
          'boss: eve has moved to pay-as-you-go',
          'payer: eve has moved to pay-as-you-go',
        ].sort(),
      );
      expect((await credits.members.state(teamId, 'eve')).notificationsSent).toEqual([
        'member_75',
        'member_100',
        'member_exceeded',
      ]);
    });
  });

  it('rejects bad input in the validator, leaving no trace in history or ledger', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'fay' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      await credits.members.ensureStarted(teamId, 'fay');
      const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'fay'));
      await rowsOf(teamId, 'fay', 1);
      await eventually(async () => ((await handle.query(creditStateQuery)).pendingRecords === 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      const before = (await handle.fetchHistory()).events?.length ?? 0;
      for (const bad of [
        { requestId: '', action: 'chat', millicredits: 1 },
        { requestId: 'r', action: 'nope', millicredits: 1 },
        { requestId: 'r', action: 'chat', millicredits: -5 },
        { requestId: 'r', action: 'chat', millicredits: 10_000_000 },
      ]) {
        const input = { ...bad, holder: 'test', checkedAt: Date.now() };
        await expect(handle.executeUpdate(consumeCreditsUpdate, { args: [input] })).rejects.toBeInstanceOf(
          WorkflowUpdateFailedError,
        );
      }
      await expect(
        credits.consume(teamId, 'fay', { requestId: 'r', action: 'nope', millicredits: 1 }),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      const events = (await handle.fetchHistory()).events ?? [];
      const updateEvents = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      expect(updateEvents).toHaveLength(0);
      expect(events.length).toBe(before);
      const rows = await ledger.list({ teamId, userId: 'fay' });
      expect(rows.every((r) => r.kind === 'grant')).toBe(true);
    });
  });

  it('continues as new inside a period when Temporal suggests it, losing and doubling nothing', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'gus' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      await credits.members.ensureStarted(teamId, 'gus');
      const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'gus'));
      const firstRun = (await handle.describe()).runId;
      // Past the allowance every consumption is PAYG, decided by the workflow: enough Updates to pass 300 events.
      await credits.consume(teamId, 'gus', { requestId: 'all', action: 'chat', millicredits: 200_000 });
      await credits.consume(teamId, 'gus', { requestId: 'all-2', action: 'chat', millicredits: 200_000 });
      const n = 60;
      for (let i = 0; i < n; i++) {
        const r = await credits.consume(teamId, 'gus', { requestId: `k-${i}`, action: 'chat', millicredits: 1_000 });
        expect(r.decision).toBe('allowed_payg');
      }
      // Retries of requests answered by earlier runs get their first answer.
      const first = await credits.consume(teamId, 'gus', { requestId: 'k-0', action: 'chat', millicredits: 1_000 });
      expect(first.balance.paygCredits).toBe(1_000);
      const lastRun = (await handle.describe()).runId;
      expect(lastRun).not.toBe(firstRun);
      const view = await handle.query(creditStateQuery);
      expect(view.balance).toMatchObject({ used: 400_000, paygCredits: n * 1_000 });
      const rows = await rowsOf(teamId, 'gus', n + 3);
      expect(rows.filter((r) => r.kind === 'payg')).toHaveLength(n);
      expect(rows.filter((r) => r.kind === 'grant')).toHaveLength(1);
      expect(new Set(rows.map((r) => r.runId)).size).toBeGreaterThan(1);
    });
  });

  it('closes the period early when a member is removed', async () => {
    const teamId = await seedTeam(h, { members: [{ userId: 'hal' }] });
    await h.withWorker(async (tq) => {
      const credits = service(tq);
      await credits.consume(teamId, 'hal', { requestId: 'a', action: 'chat', millicredits: 150_000 });
      await credits.consume(teamId, 'hal', { requestId: 'b', action: 'chat', millicredits: 150_000 });
      await credits.consume(teamId, 'hal', { requestId: 'c', action: 'chat', millicredits: 150_000 });
      await h.teams.markRemoved(teamId, 'hal');
      await credits.members.remove(teamId, 'hal');
      const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'hal'));
      await expect(handle.result()).resolves.toMatchObject({ reason: 'removed' });
      const [rec] = await eventually(async () => {
        const r = await ledger.reconcile({ teamId });
        return r.length === 1 && r[0].paygInvoicedCredits > 0 ? r : undefined;
      });
      expect(rec).toMatchObject({
        granted: 400_000,
        consumed: 400_000,
        expired: 0,
        paygCredits: 50_000,
        paygInvoicedMinor: 200,
      });
      expect(periodBalances(rec)).toBe(true);
      await expect(
        credits.consume(teamId, 'hal', { requestId: 'd', action: 'chat', millicredits: 1 }),
      ).rejects.toMatchObject({ code: 'not_found' });
    });
  });
});
