/**
 * Reservations and spend caps on the real Temporal dev server and PostgreSQL (spec §14, §15): concurrent holds
 * never hold more than exists, a team's PAYG cap holds however many members spend at once, and settling records
 * the real cost as a consumption.
 */
import { reconcileMember } from '../../src/credits/reconcile';
import { LedgerStore } from '../../src/db/ledger-store';
import { paygChargeMinor } from '../../workflows/domain/money';
import { memberWorkflowId } from '../../workflows/ids';
import { creditStateQuery } from '../../workflows/member-credits/messages';
import { credits as memberCredits, createHarness, eventually, seedTeam, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

const quiet = (teamId: string, userId: string) =>
  eventually(async () => {
    const v = await h.client.workflow.getHandle(memberWorkflowId(teamId, userId)).query(creditStateQuery);
    return v.pendingRecords === 0 ? v : undefined;
  });

it('100 concurrent reservations that together exceed the balance: exactly what fits is held', async () => {
  const teamId = await seedTeam(h, { members: [{ userId: 'res' }] }); // basic: 400 credits
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    await credits.setPayg(teamId, 'res', { enabled: false });
    await credits.consume(teamId, 'res', { requestId: 'warm', action: 'chat', millicredits: 1_000 }); // a lease out
    // 100 × 7 credits = 700 asked of the 399 left: 57 fit (399), the rest is refused.
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        credits.reserve(teamId, 'res', { reservationId: `h${i}`, action: 'chat', millicredits: 7_000, ttlMs: 300_000 }),
      ),
    );
    const held = answers.filter((a) => a.decision === 'held');
    expect(held).toHaveLength(57);
    const reasons = new Set(answers.filter((a) => a.decision === 'refused').map((a) => a.reason));
    expect([...reasons].every((r) => r === 'insufficient_credits' || r === 'paused')).toBe(true);
    const view = await quiet(teamId, 'res');
    expect(view.balance).toMatchObject({ held: 399_000, remaining: 0, used: 1_000 });
    expect((await credits.balance(teamId, 'res')).balance).toMatchObject({ held: 399_000, remaining: 0 });
    // A consumption finds nothing left, and no lease serves it.
    const after = await credits.consume(teamId, 'res', { requestId: 'after', action: 'chat', millicredits: 1 });
    expect(after).toMatchObject({ decision: 'refused', reason: 'paused' });

    // Settle one for less, release one, repeat both: the real cost is one consumption, the rest comes back.
    const ids = held.map((_, i) => i);
    const firstHeld = `h${answers.findIndex((a) => a.decision === 'held')}`;
    const settled = await credits.settle(teamId, 'res', firstHeld, 2_500);
    expect(settled).toMatchObject({ decision: 'allowed', charged: { allowance: 2_500 }, duplicate: false });
    expect(await credits.settle(teamId, 'res', firstHeld, 2_500)).toMatchObject({ duplicate: true });
    await expect(credits.settle(teamId, 'res', firstHeld, 3_000)).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    await expect(credits.release(teamId, 'res', firstHeld)).rejects.toMatchObject({ code: 'reservation_not_held' });
    await expect(credits.release(teamId, 'res', 'never-made')).rejects.toMatchObject({ code: 'not_found' });
    expect(ids.length).toBe(57);
    const v = await quiet(teamId, 'res');
    expect(v.balance).toMatchObject({ held: 392_000, used: 3_500, remaining: 4_500 });
    const rows = await new LedgerStore(h.db).list({ teamId, userId: 'res' });
    expect(rows.filter((r) => r.requestId === `r:${firstHeld}`).map((r) => `${r.kind}:${r.millicredits}`)).toEqual([
      'consume:2500',
    ]);
    expect((await reconcileMember({ db: h.db, client: h.client }, teamId, 'res')).differences).toEqual([]);
  });
});

it("a team's PAYG cap holds with 20 members spending at once; the refusals say why; Billing is told once", async () => {
  const members = Array.from({ length: 20 }, (_, i) => ({ userId: `m${i}` }));
  const teamId = await seedTeam(h, { members: [...members, { userId: 'pay', roles: ['billing'] }] });
  const capMinor = 500; // $5.00 = 125 PAYG credits at $0.04
  await h.teams.setTeamPaygCap(teamId, capMinor);
  h.mail.clear();
  await h.withWorker(async (tq) => {
    const credits = memberCredits(h, tq);
    // Everyone spends the allowance, then PAYG in 3-credit steps, all at once, until refused.
    await Promise.all(
      members.map(async ({ userId }) => {
        for (const id of ['a', 'b'])
          await credits.consume(teamId, userId, { requestId: id, action: 'chat', millicredits: 200_000 });
      }),
    );
    const refusals: string[] = [];
    await Promise.all(
      members.map(async ({ userId }) => {
        for (let i = 0; ; i++) {
          const r = await credits.consume(teamId, userId, { requestId: `p${i}`, action: 'chat', millicredits: 3_000 });
          if (r.decision === 'refused') {
            refusals.push(r.reason!);
            return;
          }
        }
      }),
    );
    expect(new Set(refusals)).toEqual(new Set(['team_payg_cap_reached']));
    const paygRows = (await new LedgerStore(h.db).list({ teamId })).filter((r) => r.kind === 'payg');
    const perMember = new Map<string, number>();
    for (const r of paygRows) perMember.set(r.userId, (perMember.get(r.userId) ?? 0) + r.millicredits);
    const teamMinor = [...perMember.values()].reduce((a, mc) => a + paygChargeMinor(mc, 40_000), 0);
    expect(teamMinor).toBeLessThanOrEqual(capMinor);
    expect(teamMinor).toBeGreaterThan(capMinor - 20 * 12); // each member stopped within one 3-credit step (12 cents)
    const capMails = await eventually(async () => {
      const m = h.mail.messages.filter((x) => x.subject.includes('monthly pay-as-you-go cap'));
      return m.length > 0 ? m : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(h.mail.messages.filter((x) => x.subject.includes('monthly pay-as-you-go cap'))).toHaveLength(
      capMails.length,
    );
    expect(capMails.map((m) => m.to[0])).toEqual([`pay@${teamId}.example`]);
  });
});
