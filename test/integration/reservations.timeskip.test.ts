/**
 * Holds and time on the time-skipping test server: a hold nobody settles is released by the workflow at its
 * `expiresAt` although the API process that made it is gone, and a hold still out at the billing date is released
 * with the closing period (spec §14; the README's decision) — a settle after either is a 409, never a charge.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CreditsError } from '../../src/errors';
import { LedgerStore } from '../../src/db/ledger-store';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
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
const done = (teamId: string, userId: string) =>
  h.client.workflow
    .getHandle(memberWorkflowId(teamId, userId))
    .terminate('test done')
    .catch(() => undefined);
const skipTo = async (instant: number) => testEnv.sleep(Math.max(1, instant - (await testEnv.currentTimeMs())));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (err: unknown) => (err instanceof CreditsError ? err.code : String(err)),
  );

it('a hold nobody settles is released at its expiry by the workflow, with the API that made it gone', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'exp' }] });
  await h.withWorker(async (tq) => {
    const maker = memberCredits(h, tq);
    const held = await maker.reserve(teamId, 'exp', {
      reservationId: 'r1',
      action: 'chat',
      millicredits: 150_000,
      ttlMs: 60_000,
    });
    expect(held).toMatchObject({ decision: 'held', balance: { held: 150_000, remaining: 250_000 } });
    // The maker is gone; a second instance sees the hold until its time runs out, then the credits come back.
    await skipTo(held.expiresAt + 1_000);
    const after = await eventually(
      async () => {
        const v = await view(teamId, 'exp');
        return v.balance.held === 0 ? v : undefined;
      },
      30_000,
      'the expired hold to be released',
    );
    expect(after.balance).toMatchObject({ used: 0, remaining: 400_000, held: 0 });
    const other = memberCredits(h, tq);
    expect(await refusal(other.settle(teamId, 'exp', 'r1', 10_000))).toBe('reservation_not_held');
    expect(await other.release(teamId, 'exp', 'r1')).toMatchObject({ released: 150_000, how: 'expired' });
    const rows = await ledger.list({ teamId, userId: 'exp' });
    expect(rows.filter((r) => r.kind === 'consume')).toEqual([]);
    const usage = await h.db('member_usage').where({ team_id: teamId, user_id: 'exp' }).first();
    expect(Number(usage.held)).toBe(0);
  });
  await done(teamId, 'exp');
});

it('a hold still out at the billing date expires with the closing period; the new period starts whole', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'bd' }] });
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.consume(teamId, 'bd', { requestId: 'c1', action: 'chat', millicredits: 100_000 });
    const first = (await view(teamId, 'bd')).balance;
    await skipTo(first.periodEnd - 30_000);
    const held = await credits.reserve(teamId, 'bd', {
      reservationId: 'late',
      action: 'chat',
      millicredits: 200_000,
      ttlMs: 600_000,
    });
    expect(held.decision).toBe('held');
    // Ten minutes were asked for; a hold never outlives the period it was made in.
    expect(held.expiresAt).toBe(first.periodEnd);
    await skipPastBillingDate(testEnv, first.periodEnd);
    const next = await eventually(
      async () => {
        const v = await view(teamId, 'bd');
        return v.balance.periodStart === first.periodEnd ? v : undefined;
      },
      30_000,
      'the next period',
    );
    expect(next.balance).toMatchObject({ allowance: 400_000, used: 0, held: 0, remaining: 400_000 });
    expect(await refusal(credits.settle(teamId, 'bd', 'late', 50_000))).toBe('reservation_not_held');
    const rows = await ledger.list({ teamId, userId: 'bd' });
    expect(rows.filter((r) => r.kind === 'consume').map((r) => r.millicredits)).toEqual([100_000]);
    // The closed period: what was held and never settled expired with the rest of the allowance.
    const [closed] = await eventually(async () => {
      const r = await ledger.reconcile({ teamId, userId: 'bd', closedBefore: first.periodEnd });
      return r.length === 1 && r[0].expired > 0 ? r : undefined;
    });
    expect(closed).toMatchObject({ granted: 400_000, consumed: 100_000, expired: 300_000 });
  });
  await done(teamId, 'bd');
});
