/**
 * A purchase id is answered once across continue-as-new (dev server with `suggestContinueAsNew` lowered by
 * `npm test`): a repeat after the run changed gets the first answer, through the API's path (PostgreSQL) and from
 * the workflow itself (its carried memory), buys nothing more and posts no second invoice line; the same id with
 * another amount is refused.
 */
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore } from '../../src/db/ledger-store';
import { memberWorkflowId } from '../../workflows/ids';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('answers a purchase id once across continue-as-new', async () => {
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'shop' }] });
  let bought = 0;
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.members.ensureStarted(teamId, 'shop');
    const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'shop'));
    const firstRun = (await handle.describe()).runId;
    const first = await credits.purchase(teamId, 'shop', 'buy-first', 10_000);
    expect(first).toMatchObject({ duplicate: false, millicredits: 10_000, amountMinor: 35 });
    // More purchases (each an Update) until Temporal suggested continue-as-new and the run changed.
    let last = first;
    for (bought = 1; (await handle.describe()).runId === firstRun; bought++) {
      if (bought > 300) throw new Error('no continue-as-new after 300 purchases');
      last = await credits.purchase(teamId, 'shop', `buy-${bought}`, 1_000);
    }
    const expectedPurchased = 10_000 + (bought - 1) * 1_000;

    // Through the API's path, then straight to the workflow, which carried its memory into the new run.
    const again = await credits.purchase(teamId, 'shop', 'buy-first', 10_000);
    expect(again).toEqual({ ...first, duplicate: true });
    await expect(
      credits.members.purchase(teamId, 'shop', { purchaseId: 'buy-first', millicredits: 10_000 }),
    ).resolves.toMatchObject({ purchaseId: 'buy-first', millicredits: 10_000, amountMinor: 35, duplicate: true });
    await expect(
      credits.members.purchase(teamId, 'shop', { purchaseId: last.purchaseId, millicredits: last.millicredits }),
    ).resolves.toMatchObject({ purchaseId: last.purchaseId, duplicate: true });
    await expect(credits.purchase(teamId, 'shop', 'buy-first', 20_000)).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    await expect(
      credits.members.purchase(teamId, 'shop', { purchaseId: 'buy-first', millicredits: 20_000 }),
    ).rejects.toThrow(/different request body/);
    expect((await credits.balance(teamId, 'shop')).balance.purchased).toBe(expectedPurchased);

    // The ledger rows and invoice lines are written by the workflow's activities: wait while the worker runs.
    const rows = await eventually(async () => {
      const r = (await new LedgerStore(h.db).list({ teamId, userId: 'shop' })).filter((e) => e.kind === 'purchase');
      return r.length >= bought ? r : undefined;
    });
    expect(rows.filter((r) => r.requestId === 'buy-first')).toHaveLength(1);
    const invoices = new InvoiceStore(h.db);
    const lines = await eventually(async () => {
      const [inv] = await invoices.list(teamId);
      const got = inv && (await invoices.get(teamId, inv.invoiceId));
      return got && got.lines.length >= bought ? got.lines : undefined;
    });
    expect(lines.filter((l) => l.lineKey.endsWith(':purchase:buy-first'))).toHaveLength(1);
    expect(lines).toHaveLength(bought);
  });
}, 300_000); // a hundred-odd Updates one after another, on a shared machine
