/**
 * PAYG in fractions of a cent, through the member workflow on the dev server and PostgreSQL: the charge is
 * credits × rate summed over the period and rounded half-up once, on the balance and on the invoice line, not
 * rounded per consumption (which would bill 7 cents here, or 0, instead of 4).
 */
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { paygChargeMinor } from '../../workflows/domain/money';
import { memberWorkflowId } from '../../workflows/ids';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const RATE = 40_000; // plan basic: $0.04 a credit, so 0.125 credits is half a cent and 0.001 credits 0.004 cents

it('bills fractional-cent PAYG consumptions once per period, rounded half-up', async () => {
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'frac' }] });
  const amounts = [...Array<number>(7).fill(125), ...Array<number>(3).fill(1)];
  const total = amounts.reduce((a, b) => a + b, 0); // 878 millicredits = 3.512 cents
  expect(paygChargeMinor(total, RATE)).toBe(4);
  expect(amounts.reduce((a, m) => a + paygChargeMinor(m, RATE), 0)).toBe(7); // what per-consumption rounding bills

  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    for (const id of ['all-1', 'all-2']) {
      const r = await credits.consume(teamId, 'frac', { requestId: id, action: 'chat', millicredits: 200_000 });
      expect(r.decision).toBe('allowed');
    }
    let spent = 0;
    for (const [i, millicredits] of amounts.entries()) {
      const r = await credits.consume(teamId, 'frac', { requestId: `p-${i}`, action: 'chat', millicredits });
      spent += millicredits;
      expect(r).toMatchObject({
        decision: 'allowed_payg',
        charged: { payg: millicredits },
        balance: { paygCredits: spent, paygChargeMinor: paygChargeMinor(spent, RATE) },
      });
    }
    // Removal closes the period now and bills its PAYG.
    await h.teams.markRemoved(teamId, 'frac');
    await credits.members.remove(teamId, 'frac');
    await expect(h.client.workflow.getHandle(memberWorkflowId(teamId, 'frac')).result()).resolves.toMatchObject({
      reason: 'removed',
    });
  });

  const invoices = new InvoiceStore(h.db);
  const lines = await eventually(async () => {
    const [inv] = await invoices.list(teamId);
    const got = inv && (await invoices.get(teamId, inv.invoiceId));
    return got && got.lines.length > 0 ? got.lines : undefined;
  });
  expect(lines).toEqual([
    expect.objectContaining({ kind: 'payg', millicredits: total, rateMicrosPerCredit: RATE, amountMinor: 4 }),
  ]);
  const [rec] = await new LedgerStore(h.db).reconcile({ teamId });
  expect(rec).toMatchObject({ paygCredits: total, paygInvoicedMinor: 4, paygExpectedMinor: 4 });
  expect(periodBalances(rec)).toBe(true);
}, 180_000); // a dozen Updates one after another, on a shared machine
