/**
 * Leases and the billing date on the time-skipping test server: a holder that dies mid-lease, leases out when the
 * period renews, a consumption that arrives after the billing date before its timer ran (a worker down across
 * it), and the plan catalogue read again for each new period.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { reconcileMember } from '../../src/credits/reconcile';
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { LEASE_TTL_MS, leaseTtl } from '../../workflows/member-credits/state';
import type { MemberCreditsView } from '../../workflows/member-credits/types';
import {
  credits as memberCredits,
  createTimeSkippingHarness,
  eventually,
  seedTeam,
  skipPastBillingDate,
  type Harness,
} from '../support/harness';

jest.setTimeout(180_000);

let testEnv: TestWorkflowEnvironment;
let h: Harness;
let close: (() => Promise<void>) | undefined;
let ledger: LedgerStore;

beforeAll(async () => {
  ({ h, testEnv, close } = await createTimeSkippingHarness());
  ledger = new LedgerStore(h.db);
});
afterAll(() => close?.());

const view = (teamId: string, userId: string): Promise<MemberCreditsView> =>
  h.client.workflow.getHandle(memberWorkflowId(teamId, userId)).query(creditStateQuery);
/**
 * Ends a test's member workflows: one left running without its worker would hold up time skipping for the next
 * test (the test server does not skip while a workflow task waits for a worker).
 */
const done = (teamId: string, userId: string) =>
  h.client.workflow
    .getHandle(memberWorkflowId(teamId, userId))
    .terminate('test done')
    .catch(() => undefined);
const skipTo = async (instant: number) => testEnv.sleep(Math.max(1, instant - (await testEnv.currentTimeMs())));

it('a lease whose holder died is settled at its expiry from the ledger rows that carry its id', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'kim' }] });
  await h.withWorker(async (tq) => {
    const dying = memberCredits(h, tq);
    for (let i = 0; i < 20; i++) {
      await dying.consume(teamId, 'kim', { requestId: `d${i}`, action: 'chat', millicredits: 2_500 });
    }
    const [lease] = dying.leases.heldLeases();
    expect(lease.credits).toBeGreaterThan(50_000);
    const before = await view(teamId, 'kim');
    expect(before.openLeases.map((l) => l.leaseId)).toEqual([lease.leaseId]);
    expect(before.balance.used).toBeLessThan(50_000); // what the lease spent is not counted yet
    // The holder is gone (this process forgets it); its lease's time runs out.
    await skipTo(lease.expiresAt + 1_000);
    const after = await eventually(
      async () => {
        const v = await view(teamId, 'kim');
        return v.openLeases.length === 0 && v.pendingRecords === 0 ? v : undefined;
      },
      30_000,
      'the expired lease to be settled',
    );
    expect(after.balance).toMatchObject({ used: 50_000, remaining: 350_000 });
    const rows = await ledger.list({ teamId, userId: 'kim' });
    expect(
      rows.filter((r) => r.leaseId === lease.leaseId).reduce((a, r) => a + r.millicredits, 0),
    ).toBeGreaterThanOrEqual(50_000 - 2_500);
    expect((await reconcileMember({ db: h.db, client: h.client }, teamId, 'kim')).differences).toEqual([]);
    // The unspent credits are back: another API instance gets them in a lease of its own, all of them once the
    // dead holder was last seen a lease time ago (until then the workflow counts it as still serving: half).
    await skipTo(lease.expiresAt - leaseTtl(lease.leaseId) + LEASE_TTL_MS + 1_000);
    const next = memberCredits(h, tq);
    await next.consume(teamId, 'kim', { requestId: 'n1', action: 'chat', millicredits: 1_000 });
    expect(next.leases.heldLeases()[0].credits).toBe(300_000 - 51_000 - 1);
    expect(LEASE_TTL_MS).toBe(5 * 60_000);
  });
  await done(teamId, 'kim');
});

it('renews with leases out: the leases come back first, no credit of the old period is spent in the new one', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'ren' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'ren', { requestId: 'a', action: 'chat', millicredits: 100_000 });
    await credits.consume(teamId, 'ren', { requestId: 'b', action: 'chat', millicredits: 50_000 });
    const [old] = credits.leases.heldLeases();
    const oldPeriod = (await view(teamId, 'ren')).balance;
    await skipPastBillingDate(testEnv, oldPeriod.periodEnd);
    await eventually(
      async () => ((await view(teamId, 'ren')).balance.periodStart === oldPeriod.periodEnd ? true : undefined),
      30_000,
      'the next period',
    );
    // This instance still holds the old period's lease: PostgreSQL refuses it, the workflow decides in the new one.
    expect(credits.leases.heldLeases().map((l) => l.leaseId)).toEqual([old.leaseId]);
    const c = await credits.consume(teamId, 'ren', { requestId: 'c', action: 'chat', millicredits: 70_000 });
    expect(c).toMatchObject({ decision: 'allowed', balance: { periodStart: new Date(oldPeriod.periodEnd).getTime() } });
    expect(c.balance).toMatchObject({ allowance: 400_000, used: 70_000 });
    const [closed] = await eventually(async () => {
      const r = await ledger.reconcile({ teamId, userId: 'ren', closedBefore: oldPeriod.periodEnd });
      return r.length === 1 && r[0].expired > 0 ? r : undefined;
    });
    expect(closed).toMatchObject({ granted: 400_000, consumed: 150_000, expired: 250_000 });
    expect(periodBalances(closed)).toBe(true);
    const rowC = (await ledger.list({ teamId, userId: 'ren' })).find((r) => r.requestId === 'c');
    expect(rowC?.periodStart).toBe(oldPeriod.periodEnd);
  });
  await done(teamId, 'ren');
});

it('a consumption after the billing date is decided in the new period even when the timer has not run yet', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'ins' }] });
  let periodEnd = 0;
  let taskQueue = '';
  // No sticky queue for the workers below: the next workflow task goes to the task queue, not to a gone worker.
  await h.withWorker(
    async (tq) => {
      taskQueue = tq;
      const credits = memberCredits(h, tq);
      for (const requestId of ['a', 'b']) {
        await credits.consume(teamId, 'ins', { requestId, action: 'chat', millicredits: 200_000 });
      }
      const paygNow = await credits.consume(teamId, 'ins', { requestId: 'p', action: 'chat', millicredits: 1_000 });
      expect(paygNow.decision).toBe('allowed_payg');
      periodEnd = paygNow.balance.periodEnd;
      // Two seconds before the billing date the worker goes down with nothing in flight (the test server does not
      // skip time past a task that waits for a worker).
      await eventually(async () => {
        const v = await view(teamId, 'ins');
        return v.pendingRecords + v.pendingDeliveries === 0 ? true : undefined;
      });
      await skipTo(periodEnd - 2_000);
    },
    { maxCachedWorkflows: 0 },
  );
  // The period timer fires on the server, in real time, with no worker to run it; then a consumption comes.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await testEnv.currentTimeMs()).toBeGreaterThan(periodEnd);
  const asked = memberCredits(h, taskQueue).consume(teamId, 'ins', {
    requestId: 'after',
    action: 'chat',
    millicredits: 1_000,
  });
  await new Promise((r) => setTimeout(r, 1_000));
  await h.withWorker(
    async () => {
      // The Update and the fired timer reach the workflow in one activation, the Update first: it waits for the
      // rollover and spends the fresh allowance, not PAYG of the closed period.
      const answer = await asked;
      expect(answer).toMatchObject({ decision: 'allowed', charged: { allowance: 1_000, payg: 0 } });
      expect(answer.balance).toMatchObject({ periodStart: periodEnd, used: 1_000, paygCredits: 0 });
    },
    { taskQueue, maxCachedWorkflows: 0 },
  );
  await done(teamId, 'ins');
});

it('opens each period on the plan the team is on then', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'cat' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'cat', { requestId: 'a', action: 'chat', millicredits: 1_000 });
    const first = (await view(teamId, 'cat')).balance;
    expect(first.allowance).toBe(400_000);
    await h.db('teams').where({ team_id: teamId }).update({ plan: 'professional' });
    await skipPastBillingDate(testEnv, first.periodEnd);
    const next = await eventually(
      async () => {
        const v = await view(teamId, 'cat');
        return v.balance.periodStart === first.periodEnd ? v : undefined;
      },
      30_000,
      'the next period',
    );
    expect(next.planId).toBe('professional');
    expect(next.balance.allowance).toBe(1_000_000);
  });
  await done(teamId, 'cat');
});
