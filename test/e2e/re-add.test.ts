/**
 * A member removed and added again in the same period resumes it (spec §5): no second allowance, PAYG as Billing
 * last set it, and request and purchase ids still remembered, over real HTTP with a real worker.
 */
import { LedgerStore, periodBalances } from '../../src/db/ledger-store';
import { useServedApi } from '../support/api';
import { eventually, uid } from '../support/harness';

const served = useServedApi();
const { client, prov, token } = served;

it('resumes the period on re-add: the same spend, PAYG as Billing set it, ids still remembered', async () => {
  const teamId = uid('team');
  expect((await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 })).status).toBe(201);
  for (const [userId, roles] of [
    ['pay', ['billing']],
    ['adm', ['admin']],
    ['m', ['member']],
  ] as const) {
    const res = await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles });
    expect(res.status).toBe(200);
  }
  const billing = client(await token({ teamId, userId: 'pay' }));
  const admin = client(await token({ teamId, userId: 'adm' }));
  const agent = client(await token({ service: 'agent', teamId }));
  const m = `/v1/teams/${teamId}/members/m`;
  const consume = (requestId: string, credits: string) =>
    agent('POST', `${m}/consumptions`, { requestId, action: 'chat', credits });

  expect((await billing('PUT', `${m}/payg`, { enabled: false })).status).toBe(200);
  const first = await consume('r1', '150');
  expect(first.status).toBe(200);
  expect((await consume('r2', '150')).status).toBe(200);
  const bought = await billing('POST', `${m}/credit-purchases`, { purchaseId: 'p1', credits: '10' });
  expect(bought.status).toBe(201);

  // An admin (not Billing) removes the member and adds them back.
  expect((await admin('DELETE', m)).status).toBe(204);
  const back = await admin('PUT', m, { email: 'm@x.example', roles: ['member'] });
  expect(back.status).toBe(200);

  // The period goes on where it was: 300 of 410 used, PAYG still off.
  const next = await consume('r3', '1');
  expect(next.status).toBe(200);
  expect(next.body.balance).toMatchObject({
    allowance: '400',
    purchased: '10',
    used: '301',
    remaining: '109',
    paygEnabled: false,
  });
  const tooMuch = await consume('r4', '110');
  expect(tooMuch.status).toBe(402);
  expect(tooMuch.body).toMatchObject({ decision: 'refused', reason: 'insufficient_credits' });

  // Ids from before the removal are still remembered: the first answers again, nothing bought or spent twice.
  const againR1 = await consume('r1', '150');
  expect(againR1.status).toBe(200);
  expect(againR1.body).toEqual(first.body);
  const againP1 = await billing('POST', `${m}/credit-purchases`, { purchaseId: 'p1', credits: '10' });
  expect(againP1.status).toBe(200);
  expect(againP1.body.balance.purchased).toBe('10');
  expect((await consume('r1', '151')).status).toBe(409);

  const ledger = new LedgerStore(served.h.db);
  const rows = await eventually(async () => {
    const r = await ledger.list({ teamId, userId: 'm' });
    return r.some((x) => x.kind === 'restore') ? r : undefined;
  });
  expect(rows.map((r) => `${r.kind}:${r.millicredits}`)).toEqual([
    'grant:400000',
    'consume:150000',
    'consume:150000',
    'purchase:10000',
    'expire:110000',
    'restore:110000',
    'consume:1000',
  ]);
  // Closing the period now balances with one grant: 400 + 10 − 301 − (110 − 110 + what expires then).
  expect((await admin('DELETE', m)).status).toBe(204);
  const [closed] = await eventually(async () => {
    const r = await ledger.reconcile({ teamId, userId: 'm' });
    return r.length === 1 && r[0].expired === 109_000 ? r : undefined;
  });
  expect(closed).toMatchObject({ granted: 400_000, purchased: 10_000, consumed: 301_000, expired: 109_000 });
  expect(periodBalances(closed)).toBe(true);
});
