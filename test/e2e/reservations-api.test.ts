/**
 * The reservation routes and the caps over real HTTP (spec §14, §15): reserve → settle and release with their
 * idempotency and conflicts, caps set by Billing (and refused to others), the audit trail of both.
 */
import { useServedApi } from '../support/api';
import { eventually, uid } from '../support/harness';

const served = useServedApi();
const { client, prov, token } = served;

async function team() {
  const teamId = uid('team');
  expect((await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 })).status).toBe(201);
  for (const [userId, roles] of [
    ['pay', ['billing']],
    ['adm', ['admin']],
    ['m', ['member']],
  ] as const) {
    await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles });
  }
  return {
    teamId,
    billing: client(await token({ teamId, userId: 'pay' })),
    admin: client(await token({ teamId, userId: 'adm' })),
    member: client(await token({ teamId, userId: 'm' })),
    agent: client(await token({ service: 'agent', teamId })),
    m: `/v1/teams/${teamId}/members/m`,
  };
}

it('reserve → settle: held leaves remaining, the real cost is recorded, the rest comes back; repeats and conflicts', async () => {
  const { agent, member, m } = await team();
  const held = await agent('POST', `${m}/reservations`, { reservationId: 'job-1', action: 'write_tests', credits: 50 });
  expect(held.status).toBe(200);
  expect(held.body).toMatchObject({
    reservationId: 'job-1',
    status: 'held',
    held: '50',
    heldFrom: { allowance: '50', purchased: '0', payg: '0' },
    balance: { held: '50', remaining: '350', used: '0' },
  });
  expect(Date.parse(held.body.expiresAt) - Date.now()).toBeGreaterThan(250_000); // 300 s by default
  // The same reservation again: the first answer; another amount: 409.
  expect(
    (await agent('POST', `${m}/reservations`, { reservationId: 'job-1', action: 'write_tests', credits: 50 })).body,
  ).toEqual(held.body);
  expect(
    (await agent('POST', `${m}/reservations`, { reservationId: 'job-1', action: 'write_tests', credits: 51 })).status,
  ).toBe(409);

  const settled = await member('POST', `${m}/reservations/job-1/settle`, { credits: '12.5' });
  expect(settled.status).toBe(200);
  expect(settled.body).toMatchObject({
    reservationId: 'job-1',
    status: 'settled',
    decision: 'allowed',
    charged: { total: '12.5', allowance: '12.5' },
    balance: { held: '0', used: '12.5', remaining: '387.5' },
  });
  expect((await member('POST', `${m}/reservations/job-1/settle`, { credits: '12.5' })).body).toEqual(settled.body);
  const other = await member('POST', `${m}/reservations/job-1/settle`, { credits: 13 });
  expect(other.status).toBe(409);
  expect(other.body.error.code).toBe('idempotency_key_reused');
  const releaseAfter = await agent('DELETE', `${m}/reservations/job-1`);
  expect(releaseAfter.status).toBe(409);
  expect(releaseAfter.body.error.code).toBe('reservation_not_held');
  expect((await agent('DELETE', `${m}/reservations/never`)).status).toBe(404);
  // More than held, or a bad amount: 400, nothing happens.
  await agent('POST', `${m}/reservations`, { reservationId: 'job-2', action: 'chat', credits: 5 });
  expect((await agent('POST', `${m}/reservations/job-2/settle`, { credits: 6 })).status).toBe(400);
  expect((await agent('POST', `${m}/reservations/job-2/settle`, { credits: -1 })).status).toBe(400);
  const released = await agent('DELETE', `${m}/reservations/job-2`);
  expect(released.body).toMatchObject({ status: 'released', balance: { held: '0', remaining: '387.5' } });
  expect((await agent('POST', `${m}/reservations/job-2/settle`, { credits: 1 })).status).toBe(409);
});

it('caps: Billing sets them (others may not), PAYG past them is refused with the reason, and the audit trail has it', async () => {
  const { teamId, billing, admin, agent, m } = await team();
  expect((await admin('PUT', `${m}/payg`, { enabled: true, monthlyCapMinor: 10 })).status).toBe(403);
  expect((await admin('PUT', `/v1/teams/${teamId}/payg-cap`, { monthlyCapMinor: 100 })).status).toBe(403);
  const capped = await billing('PUT', `${m}/payg`, { enabled: true, monthlyCapMinor: 10 }); // 2.5 credits at $0.04
  expect(capped.status).toBe(200);
  expect(capped.body.balance.paygCap).toEqual({ amountMinor: 10, currency: 'USD' });
  const teamCap = await billing('PUT', `/v1/teams/${teamId}/payg-cap`, { monthlyCapMinor: 1_000 });
  expect(teamCap.body).toEqual({ teamId, monthlyCap: { amountMinor: 1_000, currency: 'USD' } });
  expect((await billing('PUT', `/v1/teams/${teamId}/payg-cap`, { monthlyCapMinor: -1 })).status).toBe(400);

  for (const [requestId, credits] of [
    ['a', 200],
    ['b', 200],
  ] as const) {
    expect((await agent('POST', `${m}/consumptions`, { requestId, action: 'chat', credits })).status).toBe(200);
  }
  expect(
    (await agent('POST', `${m}/consumptions`, { requestId: 'p1', action: 'chat', credits: 2 })).body.decision,
  ).toBe('allowed_payg');
  const over = await agent('POST', `${m}/consumptions`, { requestId: 'p2', action: 'chat', credits: 1 });
  expect(over.status).toBe(402);
  expect(over.body).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached' });
  const hold = await agent('POST', `${m}/reservations`, { reservationId: 'r1', action: 'chat', credits: 1 });
  expect(hold.body).toMatchObject({ decision: 'refused', reason: 'payg_cap_reached' });

  const audit = await billing('GET', `/v1/teams/${teamId}/audit?limit=100`);
  expect(audit.status).toBe(200);
  const actions = (audit.body.events as { action: string; after: unknown }[]).map((e) => e.action);
  expect(actions).toEqual(expect.arrayContaining(['payg_cap.changed', 'team_payg_cap.changed']));
  const capEvent = (audit.body.events as { action: string; before: unknown; after: unknown }[]).find(
    (e) => e.action === 'payg_cap.changed',
  );
  expect(capEvent).toMatchObject({ before: { monthlyCapMinor: null }, after: { monthlyCapMinor: 10 } });
});

it('a cap set on its own leaves the PAYG switch as it is; the team usage shows the setting before the period is written', async () => {
  const { teamId, billing, m } = await team();
  const events = async () =>
    ((await billing('GET', `/v1/teams/${teamId}/audit?limit=500`)).body.events as { action: string }[])
      .map((e) => e.action)
      .filter((a) => a.startsWith('payg'));

  expect((await billing('PUT', `${m}/payg`, { enabled: false })).body.balance).toMatchObject({
    paygEnabled: false,
    paygCap: null,
  });
  const capped = await billing('PUT', `${m}/payg`, { monthlyCapMinor: 250 });
  expect(capped.status).toBe(200);
  expect(capped.body.balance).toMatchObject({ paygEnabled: false, paygCap: { amountMinor: 250, currency: 'USD' } });
  expect(await events()).toEqual(['payg.changed', 'payg_cap.changed']);
  expect((await billing('PUT', `${m}/payg`, { enabled: true })).body.balance).toMatchObject({
    paygEnabled: true,
    paygCap: { amountMinor: 250 },
  });
  const cleared = await billing('PUT', `${m}/payg`, { monthlyCapMinor: null });
  expect(cleared.body.balance).toMatchObject({ paygEnabled: true, paygCap: null });
  await billing('PUT', `${m}/payg`, { monthlyCapMinor: 75 });
  expect(await events()).toEqual([
    'payg.changed',
    'payg_cap.changed',
    'payg.changed',
    'payg_cap.changed',
    'payg_cap.changed',
  ]);

  // Nothing to change, or a bad amount: 400, nothing recorded.
  for (const body of [{}, { monthlyCapMinor: 1.5 }, { monthlyCapMinor: '75' }, { monthlyCapMinor: -1 }]) {
    expect({ body, status: (await billing('PUT', `${m}/payg`, body)).status }).toEqual({ body, status: 400 });
  }
  expect((await events()).length).toBe(5);

  // A period nothing is written for yet (the row of this one removed) shows Billing's setting, not the plan default.
  await billing('PUT', `${m}/payg`, { enabled: false });
  await served.h.db('member_usage').where({ team_id: teamId, user_id: 'm' }).delete();
  const usage = await billing('GET', `/v1/teams/${teamId}/usage`);
  const row = (usage.body.members as { userId: string; balance: Record<string, unknown> }[]).find(
    (x) => x.userId === 'm',
  );
  expect(row!.balance).toMatchObject({
    used: '0',
    held: '0',
    paygEnabled: false,
    paygCap: { amountMinor: 75, currency: 'USD' },
  });
});

it('a hold nobody settles is released by the workflow at its expiry, and /metrics counts it', async () => {
  const { agent, member, m } = await team();
  const expired = async () => {
    const res = await client()('GET', '/metrics');
    const line = /^ai_credits_reservations_expired (\d+)$/m.exec(res.body as string);
    expect(line).not.toBeNull();
    return Number(line![1]);
  };
  const before = await expired();
  const held = await agent('POST', `${m}/reservations`, {
    reservationId: 'left',
    action: 'write_tests',
    credits: 5,
    ttlSeconds: 1,
  });
  expect(held.body).toMatchObject({ status: 'held', balance: { held: '5' } });
  // No release, no settle: the workflow's timer gives the credits back and the counter (PostgreSQL) moves.
  const balance = await eventually(
    async () => {
      const b = await member('GET', `${m}/credits`);
      return b.body.balance?.held === '0' ? b.body.balance : undefined;
    },
    30_000,
    'the hold released at expiry',
  );
  expect(balance).toMatchObject({ remaining: '400', used: '0' });
  expect(await eventually(async () => ((await expired()) > before ? true : undefined), 10_000, 'the metric')).toBe(
    true,
  );
  // A release after the expiry answers that it expired, and is not counted again.
  const late = await agent('DELETE', `${m}/reservations/left`);
  expect(late.body).toMatchObject({ status: 'released', expired: true });
});
