/**
 * A plan upgrade in the middle of a period and a downgrade across the billing date, on the time-skipping test server
 * with the real API: the ledger (adjustment row, the next period's grant on the new plan), the invoice (one PAYG line
 * per rate the period's PAYG was spent at), the ledger invariant, and the `invoice.finalized` webhook the team's
 * billing workflow sends when it finalizes that invoice.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { verifyWebhookSignature } from '../../src/webhooks/verify';
import { paygChargeMinor } from '../../workflows/domain/money';
import { apiClient, PROVISIONING_TOKEN, startApi } from '../support/api';
import { credits as memberCredits, createTimeSkippingHarness, eventually, uid, type Harness } from '../support/harness';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(300_000);

let testEnv: TestWorkflowEnvironment;
let h: Harness;
let close: (() => Promise<void>) | undefined;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  ({ h, testEnv, close } = await createTimeSkippingHarness());
  await receiver.start();
});
afterAll(async () => {
  await receiver.stop();
  await close?.();
});

it('upgrade mid-period, downgrade at the billing date: ledger, invoice rates, invariant, invoice.finalized', async () => {
  const teamId = uid('team');
  const ledger = new LedgerStore(h.db);
  const invoices = new InvoiceStore(h.db);
  await h.withWorker(async (taskQueue) => {
    const api = await startApi(h, taskQueue);
    try {
      const prov = apiClient(api.url, PROVISIONING_TOKEN);
      expect((await prov('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 })).status).toBe(201);
      for (const [userId, roles] of [
        ['ida', ['member']],
        ['bea', ['billing']],
      ] as const) {
        await prov('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles });
      }
      const token = async (body: Record<string, string>) =>
        (await prov('POST', '/v1/tokens', body)).body.token as string;
      const billing = apiClient(api.url, await token({ teamId, userId: 'bea' }));
      const agent = apiClient(api.url, await token({ service: 'agent', teamId }));
      let n = 0;
      const consume = async (credits: number) => {
        const res = await agent('POST', `/v1/teams/${teamId}/members/ida/consumptions`, {
          requestId: `r-${++n}`,
          action: 'chat',
          credits,
        });
        expect(res.body.decision).not.toBe('refused');
        return res.body;
      };
      const hook = await billing('PUT', `/v1/teams/${teamId}/webhooks/invoices`, {
        url: receiver.on(`/invoices-${teamId}`, () => 200),
        events: ['invoice.finalized'],
      });
      expect(hook.status).toBe(201);

      // Basic (400 credits, $0.04): all of it and 10 credits of PAYG.
      for (const c of [200, 200, 10]) await consume(c);
      // Upgrade to professional (1,000 credits, $0.035): 600 more now; 20 credits of PAYG after it.
      const up = await billing('PATCH', `/v1/teams/${teamId}`, { plan: 'professional' });
      expect(up.body).toMatchObject({ change: 'upgrade', membersUpdated: 2 });
      for (const c of [200, 200, 200]) await consume(c);
      expect((await consume(20)).balance).toMatchObject({ paygCredits: '30', paygCharge: { amountMinor: 40 + 70 } });
      // Downgrade back to basic: at the billing date.
      const down = await billing('PATCH', `/v1/teams/${teamId}`, { plan: 'basic' });
      expect(down.body).toMatchObject({ change: 'downgrade', plan: 'professional', pendingPlan: { plan: 'basic' } });

      const credits = memberCredits(h, taskQueue);
      const before = await credits.members.state(teamId, 'ida');
      expect(before).toMatchObject({ planId: 'professional', balance: { allowance: 1_000_000, used: 1_000_000 } });
      const billingDate = before.balance.periodEnd;
      expect(down.body.pendingPlan.from).toBe(new Date(billingDate).toISOString());

      // Past the billing date and the invoice's grace hour.
      await testEnv.sleep(billingDate + 61 * 60_000 - (await testEnv.currentTimeMs()));
      const after = await eventually(
        async () => {
          const v = await credits.members.state(teamId, 'ida');
          return v.balance.periodStart === billingDate && v.pendingRecords === 0 ? v : undefined;
        },
        60_000,
        "ida's next period",
      );
      expect(after).toMatchObject({ planId: 'basic', balance: { allowance: 400_000, used: 0, paygCredits: 0 } });

      const finalized = await eventually(
        async () => (await invoices.list(teamId)).find((i) => i.status === 'finalized'),
        60_000,
        'the finalized invoice',
      );
      const lines = (await invoices.get(teamId, finalized.invoiceId))!.lines.filter((l) => l.kind === 'payg');
      expect(lines.map((l) => [l.userId, l.millicredits, l.rateMicrosPerCredit, l.amountMinor])).toEqual([
        ['ida', 10_000, 40_000, paygChargeMinor(10_000, 40_000)],
        ['ida', 20_000, 35_000, paygChargeMinor(20_000, 35_000)],
      ]);
      expect(finalized.totalMinor).toBe(110);

      const rows = await ledger.list({ teamId, userId: 'ida' });
      expect(rows.map((r) => `${r.periodStart === billingDate ? 'next' : 'this'}:${r.kind}:${r.millicredits}`)).toEqual(
        expect.arrayContaining([
          'this:grant:400000',
          'this:adjustment:600000',
          'this:payg:10000',
          'this:payg:20000',
          'next:grant:400000',
        ]),
      );
      const closed = await ledger.reconcile({ teamId, closedBefore: billingDate });
      expect(closed.length).toBe(2);
      for (const r of closed)
        expect({ userId: r.userId, balances: periodBalances(r) }).toEqual({ userId: r.userId, balances: true });
      expect(closed.find((r) => r.userId === 'ida')).toMatchObject({
        granted: 1_000_000,
        paygCredits: 30_000,
        paygInvoicedMinor: 110,
      });

      // The team's billing workflow told the webhook, signed.
      const [delivery] = await eventually(
        async () => (receiver.at(`/invoices-${teamId}`).length > 0 ? receiver.at(`/invoices-${teamId}`) : undefined),
        60_000,
        'the invoice.finalized delivery',
      );
      const event = verifyWebhookSignature({
        secret: hook.body.secret,
        headers: delivery.headers,
        body: delivery.body,
      });
      expect(event).toMatchObject({
        type: 'invoice.finalized',
        data: { teamId, invoiceId: finalized.invoiceId, total: { amountMinor: 110, currency: 'USD' } },
      });
    } finally {
      await api.app.close();
    }
  });
});
