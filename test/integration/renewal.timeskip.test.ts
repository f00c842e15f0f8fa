/**
 * Fourteen billing periods, anchor day 31, across a leap February, on the time-skipping test server: each
 * month-long timer fires in well under a second. Every period's grant, consumption, expiry and invoice
 * charge is checked against PostgreSQL, and the ledger invariant after each.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { paygChargeMinor } from '../../workflows/domain/money';
import {
  credits as memberCredits,
  createTimeSkippingHarness,
  eventually,
  seedTeam,
  skipPastBillingDate,
  type Harness,
} from '../support/harness';

jest.setTimeout(300_000);

let testEnv: TestWorkflowEnvironment;
let h: Harness;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ h, testEnv, close } = await createTimeSkippingHarness());
});
afterAll(() => close?.());

/** Billing dates for anchor 31, written independently of workflows/domain/periods. */
function expectedStarts(year: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const y = year + Math.floor((2 + i) / 12);
    const m = (2 + i) % 12; // from March
    const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    out.push(`${y}-${String(m + 1).padStart(2, '0')}-${String(Math.min(31, lastDay)).padStart(2, '0')}`);
  }
  return out;
}

it('renews 14 periods with anchor day 31 across a leap February, with no rollover', async () => {
  // The first March 31st after which February is a leap month, at least a year ahead of the server clock.
  const now = await testEnv.currentTimeMs();
  let year = new Date(now).getUTCFullYear() + 1;
  while (new Date(Date.UTC(year + 1, 1, 29)).getUTCDate() !== 29) year++;
  const starts = expectedStarts(year, 15);
  expect(starts).toContain(`${year + 1}-02-29`);
  await testEnv.sleep(Date.parse(`${starts[0]}T00:00:01Z`) - now);

  const teamId = await seedTeam(h, { plan: 'basic', anchorDay: 31, members: [{ userId: 'ida' }] });
  const ledger = new LedgerStore(h.db);
  const invoices = new InvoiceStore(h.db);

  await h.withWorker(async (taskQueue) => {
    const credits = memberCredits(h, taskQueue);
    await credits.members.ensureTeamBilling(teamId);
    for (let i = 0; i < 14; i++) {
      const view = await eventually(
        async () => {
          const v = await credits.members.state(teamId, 'ida');
          return new Date(v.balance.periodStart).toISOString().slice(0, 10) === starts[i] ? v : undefined;
        },
        30_000,
        `period ${starts[i]}`,
      );
      expect(new Date(view.balance.periodEnd).toISOString().slice(0, 10)).toBe(starts[i + 1]);
      expect(view.balance).toMatchObject({ allowance: 400_000, used: 0, purchased: 0, paygCredits: 0 });

      // Period i uses 290 + 20·i credits of 400: the first six expire the rest, later ones go PAYG.
      const total = 290_000 + 20_000 * i;
      for (let done = 0, n = 0; done < total; n++) {
        const amount = Math.min(150_000, total - done);
        const r = await credits.consume(teamId, 'ida', {
          requestId: `p${i}-${n}`,
          action: 'write_tests',
          millicredits: amount,
        });
        expect(r.decision).not.toBe('refused');
        done += amount;
      }
      // Skip past the billing date: the timer fires, the period closes, the next one opens (all of it in the sleep).
      await skipPastBillingDate(testEnv, Date.parse(`${starts[i + 1]}T00:00:00Z`));

      const periodStart = Date.parse(`${starts[i]}T00:00:00Z`);
      const payg = Math.max(0, total - 400_000);
      const [rec] = await eventually(
        async () => {
          const r = await ledger.reconcile({
            teamId,
            userId: 'ida',
            closedBefore: Date.parse(`${starts[i + 1]}T00:00:00Z`),
          });
          const row = r.find((x) => x.periodStart === periodStart);
          return row && (row.expired > 0 || row.paygInvoicedCredits > 0) ? [row] : undefined;
        },
        30_000,
        `close of ${starts[i]}`,
      );
      expect(rec).toMatchObject({
        granted: 400_000,
        purchased: 0,
        consumed: Math.min(total, 400_000),
        expired: Math.max(0, 400_000 - total),
        paygCredits: payg,
        paygInvoicedCredits: payg,
        paygInvoicedMinor: paygChargeMinor(payg, 40_000),
        creditBalance: 0,
      });
      expect(periodBalances(rec)).toBe(true);
    }
    // Past the last grace window: the 14th invoice is finalized too.
    await testEnv.sleep(2 * 60 * 60 * 1000);
    const all = await ledger.reconcile({ teamId, closedBefore: Date.parse(`${starts[14]}T00:00:00Z`) });
    expect(all).toHaveLength(14);
    expect(all.every(periodBalances)).toBe(true);

    // Invoice n is finalized one grace window after billing date n and carries period n's PAYG: "your next
    // monthly invoice". Periods without PAYG give empty invoices; the 15th is open and empty.
    const list = await eventually(
      async () => {
        const l = await invoices.list(teamId);
        return l.filter((i) => i.status === 'finalized').length === 14 ? l : undefined;
      },
      30_000,
      '14 finalized invoices',
    );
    expect(list.map((i) => `${i.sequence}:${i.status}`).reverse()).toEqual([
      ...Array.from({ length: 14 }, (_, k) => `${k + 1}:finalized`),
      '15:open',
    ]);
    for (const invoice of list) {
      const lines = (await invoices.get(teamId, invoice.invoiceId))!.lines;
      const k = invoice.sequence - 1; // the period this invoice closes
      if (k >= 6 && k < 14) {
        const amount = paygChargeMinor(10_000 + 20_000 * (k - 6), 40_000);
        expect(lines.map((l) => [l.kind, new Date(l.periodStart).toISOString().slice(0, 10), l.amountMinor])).toEqual([
          ['payg', starts[k], amount],
        ]);
        expect(invoice.totalMinor).toBe(amount);
      } else {
        expect(lines).toEqual([]);
      }
    }
  });
});
