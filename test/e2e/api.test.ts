/**
 * End to end over real HTTP: API → Temporal Update → member workflow → ledger row in PostgreSQL → answer.
 */
import { LedgerStore } from '../../src/db/ledger-store';
import { useServedApi } from '../support/api';
import { eventually, uid } from '../support/harness';

const served = useServedApi();

describe('HTTP API end to end', () => {
  it('records a consumption made through the API in the ledger and answers with the balance', async () => {
    const prov = served.prov();
    const teamId = uid('team');
    expect((await prov('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 15 })).status).toBe(201);
    expect(
      (await prov('PUT', `/v1/teams/${teamId}/members/ana`, { email: 'ana@example.com', roles: ['member'] })).status,
    ).toBe(200);
    const agentToken = (await prov('POST', '/v1/tokens', { service: 'agent', scope: 'global' })).body.token as string;
    const agent = served.client(agentToken);

    const res = await agent('POST', `/v1/teams/${teamId}/members/ana/consumptions`, {
      requestId: 'first-action',
      action: 'generate_request',
      credits: '2.5',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      decision: 'allowed',
      charged: { total: '2.5', allowance: '2.5', payg: '0' },
      balance: { allowance: '400', used: '2.5', remaining: '397.5', paygEnabled: true, paused: false },
    });
    const rows = await eventually(async () => {
      const r = await new LedgerStore(served.h.db).list({ teamId, userId: 'ana' });
      return r.some((x) => x.kind === 'consume') ? r : undefined;
    });
    expect(rows.find((r) => r.kind === 'consume')).toMatchObject({
      millicredits: 2_500,
      requestId: 'first-action',
      action: 'generate_request',
    });

    // The same request again: same answer, nothing new recorded.
    const again = await agent('POST', `/v1/teams/${teamId}/members/ana/consumptions`, {
      requestId: 'first-action',
      action: 'generate_request',
      credits: 2.5,
    });
    expect(again.body).toEqual(res.body);
    // Bad input: a clear 400, nothing recorded.
    const bad = await agent('POST', `/v1/teams/${teamId}/members/ana/consumptions`, {
      requestId: 'x',
      action: 'generate_request',
      credits: '1.0001',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const unauth = await served.client('nope')('GET', `/v1/teams/${teamId}/usage`);
    expect(unauth.status).toBe(401);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
  });
});
