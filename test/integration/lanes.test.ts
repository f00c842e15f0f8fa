/**
 * The member workflow's delivery lanes are independent: while the mail server is down (the notification activity
 * retrying), consumptions still reach the ledger and a purchase's charge still reaches the invoice; once SMTP is
 * back, each email goes out once.
 */
import { InvoiceStore } from '../../src/db/invoice-store';
import { LedgerStore } from '../../src/db/ledger-store';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('writes the ledger and posts charges while SMTP is down, and sends each email once when it is back', async () => {
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'zoe' }] });
  const smtpPort = Number(new URL(h.smtpUrl).port);
  const ledger = new LedgerStore(h.db);
  const invoices = new InvoiceStore(h.db);
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'zoe'));
    await credits.members.ensureStarted(teamId, 'zoe');
    await eventually(async () => ((await handle.query(creditStateQuery)).pendingRecords === 0 ? true : undefined));

    await h.mail.stop();
    try {
      // 300 of the basic plan's 400 credits: the 75 % notification is due, and cannot be sent.
      for (const requestId of ['a', 'b']) {
        const answer = await credits.consume(teamId, 'zoe', {
          requestId,
          action: 'write_tests',
          millicredits: 150_000,
        });
        expect(answer.decision).toBe('allowed');
      }
      // The answer came after its ledger row was written: no waiting for the mail server.
      expect((await ledger.list({ teamId, userId: 'zoe' })).map((r) => `${r.kind}:${r.millicredits}`)).toEqual([
        'grant:400000',
        'consume:150000',
        'consume:150000',
      ]);
      // Still down: a purchase is charged to the invoice at once.
      await credits.purchase(teamId, 'zoe', 'buy-1', 10_000);
      const open = await eventually(
        async () => {
          const [inv] = await invoices.list(teamId);
          return inv && inv.totalMinor > 0 ? inv : undefined;
        },
        20_000,
        'the purchase charge on the invoice while SMTP is down',
      );
      expect(open.totalMinor).toBe(35);
      const stuck = await handle.query(creditStateQuery);
      expect(stuck.pendingDeliveries).toBe(1); // the notification, and only it
      expect(h.mail.messages).toHaveLength(0);
    } finally {
      await h.mail.start(smtpPort);
    }

    await eventually(
      async () => ((await handle.query(creditStateQuery)).pendingDeliveries === 0 ? true : undefined),
      60_000,
      'the notification to be delivered after SMTP is back',
    );
    expect(h.mail.messages.map((m) => m.subject)).toEqual([`You've used 75% of your AI credits`]);
  });
});
