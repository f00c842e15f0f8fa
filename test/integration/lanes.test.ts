/**
 * The member workflow's two delivery lanes are independent: while the mail server is down (the notification
 * activity retrying), consumptions still reach the ledger; once it is back, each email goes out once.
 */
import { LedgerStore } from '../../src/db/ledger-store';
import { CreditsService } from '../../src/temporal/credits-service';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('writes the ledger while SMTP is down, and sends each email once when it is back', async () => {
  const teamId = await seedTeam(h, { plan: 'free', members: [{ userId: 'zoe' }] });
  const smtpPort = Number(new URL(h.smtpUrl).port);
  const ledger = new LedgerStore(h.db);
  await h.withWorker(async (tq) => {
    const credits = new CreditsService(h.client, h.teams, h.plans, tq, { ledgerBackstopMs: 1_000 });
    const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'zoe'));
    await credits.ensureStarted(teamId, 'zoe');
    await eventually(async () => ((await handle.query(creditStateQuery)).pendingLedgerWrites === 0 ? true : undefined));

    await h.mail.stop();
    try {
      // 40 of the free plan's 50 credits: the 75 % notification is due, and cannot be sent.
      await credits.consume(teamId, 'zoe', { requestId: 'a', action: 'write_tests', millicredits: 40_000 });
      const stuck = await eventually(
        async () => {
          const v = await handle.query(creditStateQuery);
          return v.pendingLedgerWrites === 0 ? v : undefined;
        },
        20_000,
        'the ledger lane to drain while SMTP is down',
      );
      expect(stuck.pendingDeliveries).toBe(1);
      expect((await ledger.list({ teamId, userId: 'zoe' })).map((r) => `${r.kind}:${r.millicredits}`)).toEqual([
        'grant:50000',
        'consume:40000',
      ]);
      // Still down, still accepted and recorded.
      await credits.consume(teamId, 'zoe', { requestId: 'b', action: 'write_tests', millicredits: 5_000 });
      await eventually(async () => ((await ledger.list({ teamId, userId: 'zoe' })).length === 3 ? true : undefined));
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
