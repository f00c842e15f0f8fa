/**
 * 75 % and 100 % after a purchase, through the API's lease holder, the member workflow and PostgreSQL: thresholds
 * are measured against the allowance plus the purchased credits, so spending the whole allowance of a member who
 * bought as much again notifies nothing, and each threshold is notified at its own crossing, once.
 */
import { NotificationStore } from '../../src/db/notification-store';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('notifies 75 % and 100 % of allowance plus purchases, at their crossings', async () => {
  // Plan basic: 400 credits a month; 400 more bought make 800, so 75 % is 600 and 100 % is 800.
  const teamId = await seedTeam(h, { plan: 'basic', members: [{ userId: 'buyer' }] });
  const notes = new NotificationStore(h.db);
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    const handle = h.client.workflow.getHandle(memberWorkflowId(teamId, 'buyer'));
    let n = 0;
    const spend = async (millicredits: number) => {
      const r = await credits.consume(teamId, 'buyer', { requestId: `s-${++n}`, action: 'chat', millicredits });
      expect(r.decision).toBe('allowed');
      return (await handle.query(creditStateQuery)).notificationsSent;
    };
    expect((await credits.purchase(teamId, 'buyer', 'buy-1', 400_000)).balance).toMatchObject({ remaining: 800_000 });
    expect(await spend(200_000)).toEqual([]);
    expect(await spend(200_000)).toEqual([]); // the whole allowance: 50 %
    expect(await spend(199_999)).toEqual([]);
    expect(await spend(1)).toEqual(['member_75']); // 600 of 800
    expect(await spend(199_999)).toEqual(['member_75']);
    expect(await spend(1)).toEqual(['member_75', 'member_100']);
    expect((await credits.balance(teamId, 'buyer')).balance).toMatchObject({ used: 800_000, remaining: 0 });
    // The alerts are written by the workflow's notification activity: wait for them while the worker runs.
    const alerts = await eventually(
      async () => {
        const got = await notes.alertsFor(teamId, 'buyer');
        return got.length >= 2 ? got : undefined;
      },
      60_000,
      'both alerts',
    );
    expect(alerts.map((a) => a.kind).sort()).toEqual(['member_100', 'member_75']);
  });
}, 180_000); // a dozen API calls one after another, on a shared machine
