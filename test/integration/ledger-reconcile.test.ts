/**
 * The ledger invariant's query in a currency without minor units (JPY, exponent 0): the expected PAYG amount of
 * an invoice line is round_half_up(millicredits × rate / 10^9) yen, not the cents a 10^7 divisor would assume.
 */
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { paygChargeMinor } from '../../workflows/domain/money';
import { CreditStore } from '../../src/db/credit-store';
import { createHarness, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('checks PAYG invoice lines in yen (exponent 0) at the exact rounded amount', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'yen' }] });
  const period = { start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 1, 1) };
  const rate = 4_500_000; // ¥4.5 a credit, in micro-yen
  const payg = 1_333; // 1.333 credits → ¥5.9985 → ¥6
  const entry = (kind: 'grant' | 'consume' | 'payg' | 'expire', millicredits: number) => ({
    entryKey: `${teamId}/yen:2026-01-01:${kind}:x`,
    teamId,
    userId: 'yen',
    periodStart: period.start,
    periodEnd: period.end,
    kind,
    millicredits,
    occurredAt: period.start,
  });
  await new CreditStore(h.db).writeRecords(
    {
      entries: [entry('grant', 50_000), entry('consume', 50_000), entry('payg', payg)],
      answers: [],
      leases: [],
      headers: [],
    },
    { workflowId: 'w', runId: 'r' },
  );
  const amountMinor = paygChargeMinor(payg, rate, 0);
  expect(amountMinor).toBe(6);
  await new InvoiceStore(h.db).postCharges([
    {
      chargeKey: `${teamId}/yen:payg`,
      teamId,
      userId: 'yen',
      kind: 'payg',
      periodStart: period.start,
      periodEnd: period.end,
      millicredits: payg,
      rateMicrosPerCredit: rate,
      amountMinor,
      currency: 'JPY',
      description: 'AI credits pay-as-you-go for yen',
      occurredAt: period.end,
    },
  ]);
  const ledger = new LedgerStore(h.db);
  const [yen] = await ledger.reconcile({ teamId, currencyExponent: 0 });
  expect(yen).toMatchObject({ paygCredits: payg, paygInvoicedMinor: 6, paygExpectedMinor: 6, creditBalance: 0 });
  expect(periodBalances(yen)).toBe(true);
  // The same rows read as cents (exponent 2) would expect 600: the exponent is what makes the check right.
  const [cents] = await ledger.reconcile({ teamId, currencyExponent: 2 });
  expect(cents.paygExpectedMinor).toBe(600);
});
