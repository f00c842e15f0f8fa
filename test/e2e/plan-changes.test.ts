/**
 * Plan changes over real HTTP (spec §16): an upgrade at once (every member's allowance grows by the difference, with
 * a ledger row; PAYG from then on at the new rate), a downgrade pending until the next billing date (on the
 * dashboard's data), a pending downgrade dropped, who may change a plan, and the audit trail. Across a billing date:
 * test/integration/plan-changes.timeskip.test.ts.
 */
import { paygChargeMinor } from '../../workflows/domain/money';
import { periodContaining } from '../../workflows/domain/periods';
import { useServedApi } from '../support/api';
import { eventually, uid } from '../support/harness';

jest.setTimeout(120_000);

const served = useServedApi();
const { client, prov, token } = served;

async function team(plan: string) {
  const teamId = uid('team');
  expect((await prov()('POST', '/v1/teams', { teamId, plan, billingAnchorDay: 1 })).status).toBe(201);
  for (const [userId, roles] of [
    ['bea', ['billing']],
    ['adm', ['admin']],
    ['ada', ['member']],
  ] as const) {
    await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles });
  }
  const agent = client(await token({ service: 'agent', teamId }));
  let n = 0;
  return {
    teamId,
    billing: client(await token({ teamId, userId: 'bea' })),
    admin: client(await token({ teamId, userId: 'adm' })),
    ada: client(await token({ teamId, userId: 'ada' })),
    finance: client(await token({ service: 'finance', teamId })),
    consume: async (credits: number) =>
      (
        await agent('POST', `/v1/teams/${teamId}/members/ada/consumptions`, {
          requestId: `r-${++n}`,
          action: 'chat',
          credits,
        })
      ).body,
  };
}

it('an upgrade applies at once: allowances grow by the difference, a ledger row says so, PAYG at the new rate', async () => {
  const t = await team('basic'); // 400 credits, PAYG $0.04
  await t.consume(200);
  await t.consume(200);
  expect((await t.consume(10)).balance).toMatchObject({ paygCredits: '10', paygCharge: { amountMinor: 40 } });

  const res = await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' }); // 1,000 credits, $0.035
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    teamId: t.teamId,
    plan: 'professional',
    pendingPlan: null,
    change: 'upgrade',
    membersUpdated: 3,
  });
  const credits = await t.ada('GET', `/v1/teams/${t.teamId}/members/ada/credits`);
  expect(credits.body).toMatchObject({
    plan: 'professional',
    balance: { allowance: '1000', used: '400', remaining: '600', paygCredits: '10', paused: false },
  });
  // Every member's allowance grew, also theirs who spent nothing.
  const usage = await t.admin('GET', `/v1/teams/${t.teamId}/usage`);
  expect(usage.body.members.map((m: { balance: { allowance: string } }) => m.balance.allowance)).toEqual([
    '1000',
    '1000',
    '1000',
  ]);
  const ledger = await t.finance(
    'GET',
    `/v1/teams/${t.teamId}/ledger?periodStart=${new Date(periodContaining(Date.now(), 1).start).toISOString()}`,
  );
  const adjustments = ledger.body.entries.filter(
    (e: { kind: string; userId: string }) => e.kind === 'adjustment' && e.userId === 'ada',
  );
  expect(adjustments).toEqual([
    expect.objectContaining({ credits: '600', requestId: expect.stringMatching(/^plan:chg_/) }),
  ]);

  // PAYG from now on at $0.035: the 10 credits before stay at $0.04.
  await t.consume(200);
  await t.consume(200);
  await t.consume(200);
  expect((await t.consume(20)).balance).toMatchObject({
    paygCredits: '30',
    paygCharge: { amountMinor: paygChargeMinor(10_000, 40_000) + paygChargeMinor(20_000, 35_000) },
  });

  // The same plan again changes nothing; the audit trail has the one change.
  expect((await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' })).body.change).toBe('none');
  const audit = await t.admin('GET', `/v1/teams/${t.teamId}/audit`);
  const changes = audit.body.events.filter((e: { action: string }) => e.action === 'plan.changed');
  expect(changes).toEqual([
    expect.objectContaining({
      target: `team:${t.teamId}`,
      before: { plan: 'basic', pendingPlan: null },
      after: expect.objectContaining({
        plan: 'professional',
        change: 'upgrade',
        changeId: adjustments[0].requestId.slice(5),
      }),
    }),
  ]);
});

it('a downgrade waits for the next billing date (shown as pending); asking for the current plan drops it', async () => {
  const t = await team('professional');
  await t.consume(100);
  const res = await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'basic' });
  expect(res.status).toBe(200);
  const nextBillingDate = new Date(periodContaining(Date.now(), 1).end).toISOString();
  expect(res.body).toEqual({
    teamId: t.teamId,
    plan: 'professional',
    pendingPlan: { plan: 'basic', from: nextBillingDate },
    change: 'downgrade',
    membersUpdated: null,
  });
  const credits = await t.ada('GET', `/v1/teams/${t.teamId}/members/ada/credits`);
  expect(credits.body).toMatchObject({ plan: 'professional', balance: { allowance: '1000', remaining: '900' } });
  const usage = await t.admin('GET', `/v1/teams/${t.teamId}/usage`);
  expect(usage.body).toMatchObject({ plan: 'professional', pendingPlan: { plan: 'basic', from: nextBillingDate } });

  const cancelled = await prov()('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' });
  expect(cancelled.body).toMatchObject({ plan: 'professional', pendingPlan: null, change: 'cancelled' });
  expect((await t.admin('GET', `/v1/teams/${t.teamId}/usage`)).body.pendingPlan).toBeNull();
  const audit = await t.admin('GET', `/v1/teams/${t.teamId}/audit`);
  expect(
    audit.body.events
      .filter((e: { action: string }) => e.action === 'plan.changed')
      .map((e: { after: { change: string } }) => e.after.change),
  ).toEqual(['downgrade', 'cancelled']);
});

it('a paused member on the free plan works again after an upgrade, with PAYG on (an alert says so)', async () => {
  const t = await team('free'); // 50 credits, no PAYG
  expect((await t.consume(50)).balance.paused).toBe(true);
  expect((await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'basic' })).body.change).toBe('upgrade');
  expect((await t.ada('GET', `/v1/teams/${t.teamId}/members/ada/credits`)).body.balance).toMatchObject({
    allowance: '400',
    remaining: '350',
    paygEnabled: true,
    paused: false,
  });
  // Alerts are stored by the notification lane, after the answer: wait for the resumed one.
  const alerts = await eventually(async () => {
    const kinds = (await t.ada('GET', '/v1/me/alerts')).body.alerts.map((a: { kind: string }) => a.kind);
    return kinds.includes('member_resumed') ? kinds : undefined;
  });
  expect(alerts).toEqual(expect.arrayContaining(['member_paused', 'member_resumed']));
});

it('only provisioning and Billing change a plan; an unknown plan is a 400 and changes nothing', async () => {
  const t = await team('basic');
  expect((await t.admin('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' })).status).toBe(403);
  expect((await t.ada('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' })).status).toBe(403);
  expect((await t.finance('PATCH', `/v1/teams/${t.teamId}`, { plan: 'professional' })).status).toBe(403);
  const unknown = await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'platinum' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.message).toMatch(/unknown plan platinum/);
  expect((await t.billing('PATCH', `/v1/teams/${t.teamId}`, { plan: 'basic', extra: 1 })).status).toBe(400);
  expect((await prov()('PATCH', `/v1/teams/${uid('nobody')}`, { plan: 'basic' })).status).toBe(404);
  expect((await t.admin('GET', `/v1/teams/${t.teamId}/usage`)).body).toMatchObject({
    plan: 'basic',
    pendingPlan: null,
  });
});
