/**
 * The exact set of emails for a scripted month, read from a real SMTP listener: member alerts, Admin and
 * Billing emails, and the one Billing email when the team's PAYG charges pass the threshold.
 */
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('sends exactly the emails of a scripted month', async () => {
  // Threshold $1.00 = 25 PAYG credits at $0.04.
  const teamId = await seedTeam(h, {
    plan: 'basic',
    paygThresholdMinor: 100,
    members: [
      { userId: 'amy' },
      { userId: 'ben' },
      { userId: 'adm', roles: ['admin'] },
      { userId: 'bil', roles: ['billing'] },
      { userId: 'both', roles: ['member', 'admin', 'billing'] },
    ],
  });
  const inbox = () =>
    h.mail.messages
      .filter((m) => m.to.some((t) => t.endsWith(`@${teamId}.example`)))
      .map((m) => `${m.to.join(',').split('@')[0]} | ${m.subject}`)
      .sort();

  await h.withWorker(async (taskQueue) => {
    const credits = memberCredits(h, taskQueue);
    const spend = async (userId: string, prefix: string, credits_: number[]) => {
      for (const [i, c] of credits_.entries()) {
        await credits.consume(teamId, userId, { requestId: `${prefix}-${i}`, action: 'chat', millicredits: c * 1000 });
      }
    };
    await spend('amy', 'a', [150, 150]); // 300 of 400: 75 %
    await spend('ben', 'b', [200, 100]); // 75 %
    await spend('amy', 'c', [100]); // 100 %
    await spend('amy', 'd', [10]); // PAYG: exceeded; team PAYG $0.40
    await spend('amy', 'e', [10, 10]); // team PAYG $1.20 > $1.00: threshold, once
    await spend('amy', 'f', [50]); // still above: no second threshold email
    await spend('ben', 'g', [50, 50, 10]); // 100 %, then ben goes PAYG too

    const expected = [
      "amy | You've used 75% of your AI credits",
      "amy | You've used all of your AI credits",
      "amy | You've exceeded your AI credit limit",
      "ben | You've used 75% of your AI credits",
      "ben | You've used all of your AI credits",
      "ben | You've exceeded your AI credit limit",
      ...['adm', 'both'].flatMap((who) => [
        `${who} | amy has used 75% of their AI credits`,
        `${who} | ben has used 75% of their AI credits`,
        `${who} | amy has moved to pay-as-you-go`,
        `${who} | ben has moved to pay-as-you-go`,
      ]),
      'bil | amy has used 75% of their AI credits',
      'bil | ben has used 75% of their AI credits',
      'bil | amy has moved to pay-as-you-go',
      'bil | ben has moved to pay-as-you-go',
      "bil | Your team's pay-as-you-go AI charges passed the threshold",
      "both | Your team's pay-as-you-go AI charges passed the threshold",
    ].sort();
    await eventually(async () => (inbox().length >= expected.length ? true : undefined), 20_000, 'all emails').catch(
      (err) => {
        console.log(inbox());
        throw err;
      },
    );
    // Give duplicates a chance to show up before asserting the exact set.
    await new Promise((r) => setTimeout(r, 1000));
    expect(inbox()).toEqual(expected);
  });
});
