/**
 * Every route of the HTTP API contract (spec §12) on its happy path, plus the status codes the contract names
 * for its obvious failures, over real HTTP against the real PostgreSQL and Temporal (one worker and one API
 * for the whole file).
 */
import { LedgerStore } from '../../src/db/ledger-store';
import { useServedApi, type ApiCall as Client, type ApiResponse } from '../support/api';
import { eventually, uid } from '../support/harness';

const served = useServedApi();
const { client, prov, token: tokenFor } = served;

async function createTeam(plan = 'basic', billingAnchorDay = 1): Promise<string> {
  const teamId = uid('team');
  const res = await prov()('POST', '/v1/teams', { teamId, plan, billingAnchorDay });
  expect(res.status).toBe(201);
  return teamId;
}

/** Adds (or updates) a member through the API and returns a client holding a fresh token of theirs. */
async function member(teamId: string, userId: string, roles: string[] = ['member']): Promise<Client> {
  const put = await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, {
    email: `${userId}@${teamId}.example`,
    roles,
  });
  expect(put.status).toBe(200);
  return client(await tokenFor({ teamId, userId }));
}

let seq = 0;
const consume = (client: Client, teamId: string, userId: string, credits: string | number, requestId?: string) =>
  client('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
    requestId: requestId ?? `req-${++seq}`,
    action: 'write_tests',
    credits,
  });

function expectError(res: ApiResponse, status: number, code: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
}

const BALANCE_KEYS = [
  'allowance',
  'held',
  'paused',
  'paygCap',
  'paygAvailable',
  'paygCharge',
  'paygCredits',
  'paygEnabled',
  'periodEnd',
  'periodStart',
  'purchased',
  'remaining',
  'used',
].sort();

/** Spec §12: `balance` = { periodStart, periodEnd, allowance, …, paused }, credits as decimal strings. */
function expectBalance(balance: Record<string, unknown>, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(balance).sort()).toEqual(BALANCE_KEYS);
  expect(balance).toMatchObject({
    periodStart: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    periodEnd: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    paygCharge: { amountMinor: expect.any(Number), currency: 'USD' },
    ...expected,
  });
  for (const k of ['allowance', 'purchased', 'used', 'remaining', 'paygCredits']) {
    expect(balance[k]).toMatch(/^(0|[1-9]\d*)(\.\d{1,3})?$/);
  }
  expect(Date.parse(balance.periodStart as string)).toBeLessThanOrEqual(Date.now());
  expect(Date.parse(balance.periodEnd as string)).toBeGreaterThan(Date.now());
}

const ledgerRows = (teamId: string, userId?: string) => new LedgerStore(served.h.db).list({ teamId, userId });

describe('provisioning routes', () => {
  it('POST /v1/teams: 201 with the team, 409 on a duplicate, 400 on bad input (nothing created)', async () => {
    const teamId = uid('team');
    const created = await prov()('POST', '/v1/teams', {
      teamId,
      plan: 'professional',
      billingAnchorDay: 31,
      paygThresholdMinor: 5000,
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      teamId,
      plan: 'professional',
      billingAnchorDay: 31,
      paygThresholdMinor: 5000,
      currency: 'USD',
    });
    expect(await served.h.teams.getTeam(teamId)).toMatchObject({ plan: 'professional', billingAnchorDay: 31 });

    const again = await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 });
    expectError(again, 409, 'conflict');
    expect(await served.h.teams.getTeam(teamId)).toMatchObject({ plan: 'professional' }); // unchanged

    const bad: [string, Record<string, unknown>][] = [
      ['unknown plan', { plan: 'platinum', billingAnchorDay: 1 }],
      ['anchor 0', { plan: 'basic', billingAnchorDay: 0 }],
      ['anchor 32', { plan: 'basic', billingAnchorDay: 32 }],
      ['anchor 1.5', { plan: 'basic', billingAnchorDay: 1.5 }],
      ['anchor as a string', { plan: 'basic', billingAnchorDay: '1' }],
      ['extra field', { plan: 'basic', billingAnchorDay: 1, color: 'red' }],
      ['missing plan', { billingAnchorDay: 1 }],
      ['negative threshold', { plan: 'basic', billingAnchorDay: 1, paygThresholdMinor: -1 }],
    ];
    for (const [what, body] of bad) {
      const id = uid('team');
      const res = await prov()('POST', '/v1/teams', { teamId: id, ...body });
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({
        what,
        status: 400,
        code: 'invalid_request',
      });
      expect(await served.h.teams.getTeam(id)).toBeNull();
    }
    for (const badId of ['-leading-dash', 'has space', 'x'.repeat(65), '']) {
      const res = await prov()('POST', '/v1/teams', { teamId: badId, plan: 'basic', billingAnchorDay: 1 });
      expectError(res, 400, 'invalid_request');
    }
  });

  it('PUT member: 200 adds a member and updates roles and email; the token sees new roles at once', async () => {
    const teamId = await createTeam();
    const put = await prov()('PUT', `/v1/teams/${teamId}/members/ana`, { email: 'ana@example.com', roles: ['member'] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ teamId, userId: 'ana', email: 'ana@example.com', roles: ['member'], status: 'active' });

    const ana = client(await tokenFor({ teamId, userId: 'ana' }));
    expect((await ana('GET', '/v1/me')).body).toEqual({
      teamId,
      userId: 'ana',
      email: 'ana@example.com',
      roles: ['member'],
    });
    expectError(await ana('GET', `/v1/teams/${teamId}/usage`), 403, 'forbidden');

    const update = await prov()('PUT', `/v1/teams/${teamId}/members/ana`, {
      email: 'ana.admin@example.com',
      roles: ['member', 'admin'],
    });
    expect(update.status).toBe(200);
    expect(update.body).toMatchObject({ email: 'ana.admin@example.com', roles: ['member', 'admin'] });
    expect((await ana('GET', '/v1/me')).body).toMatchObject({
      email: 'ana.admin@example.com',
      roles: ['member', 'admin'],
    });
    expect((await ana('GET', `/v1/teams/${teamId}/usage`)).status).toBe(200);

    // A team admin adds a member too.
    const byAdmin = await ana('PUT', `/v1/teams/${teamId}/members/ben`, {
      email: 'ben@example.com',
      roles: ['member'],
    });
    expect(byAdmin.status).toBe(200);
    const usage = await ana('GET', `/v1/teams/${teamId}/usage`);
    expect(usage.body.members.map((m: { userId: string }) => m.userId)).toEqual(['ana', 'ben']);

    expectError(
      await prov()('PUT', `/v1/teams/${uid('team')}/members/ana`, { email: 'a@example.com', roles: ['member'] }),
      404,
      'not_found',
    );
    for (const body of [
      { email: 'not-an-email', roles: ['member'] },
      { email: 'a@example.com', roles: [] },
      { email: 'a@example.com', roles: ['owner'] },
      { email: 'a@example.com', roles: ['member', 'member'] },
      { email: 'a@example.com', roles: ['member'], extra: 1 },
      { roles: ['member'] },
    ]) {
      expectError(await prov()('PUT', `/v1/teams/${teamId}/members/cy`, body), 400, 'invalid_request');
    }
    expect(await served.h.teams.getMember(teamId, 'cy')).toBeNull();
  });

  it('DELETE member: 204; then their credits and consumptions are 404 and their token is 401', async () => {
    const teamId = await createTeam();
    const cy = await member(teamId, 'cy');
    const admin = await member(teamId, 'adm', ['admin']);
    const agent = client(await tokenFor({ service: 'agent', scope: 'global' }));
    expect((await consume(agent, teamId, 'cy', 5)).status).toBe(200);
    expect((await cy('GET', '/v1/me')).status).toBe(200);

    const del = await admin('DELETE', `/v1/teams/${teamId}/members/cy`);
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();

    expectError(await admin('GET', `/v1/teams/${teamId}/members/cy/credits`), 404, 'not_found');
    expectError(await consume(agent, teamId, 'cy', 1), 404, 'not_found');
    expectError(await cy('GET', '/v1/me'), 401, 'unauthorized');
    expectError(await consume(cy, teamId, 'cy', 1), 401, 'unauthorized');
    expectError(await prov()('DELETE', `/v1/teams/${teamId}/members/cy`), 404, 'not_found');
    expectError(await prov()('DELETE', `/v1/teams/${teamId}/members/nobody`), 404, 'not_found');
    expectError(await prov()('POST', '/v1/tokens', { teamId, userId: 'cy' }), 404, 'not_found');
    const usage = await admin('GET', `/v1/teams/${teamId}/usage`);
    expect(usage.body.members.map((m: { userId: string }) => m.userId)).toEqual(['adm']);

    // The period was closed early: the unused 395 credits expired.
    const rows = await eventually(async () => {
      const r = await ledgerRows(teamId, 'cy');
      return r.some((x) => x.kind === 'expire') ? r : undefined;
    });
    expect(rows.map((r) => `${r.kind}:${r.millicredits}`)).toEqual(['grant:400000', 'consume:5000', 'expire:395000']);
  });

  it('POST /v1/tokens: member tokens and service tokens (team-scoped, or global when asked); 400/404 on bad input', async () => {
    const teamId = await createTeam();
    await member(teamId, 'dee');
    const before = Date.now();
    const days = (iso: string) => (Date.parse(iso) - before) / 86_400_000;

    const memberToken = await prov()('POST', '/v1/tokens', { teamId, userId: 'dee', label: 'laptop' });
    expect(memberToken.status).toBe(201);
    expect(memberToken.body).toEqual({
      tokenId: expect.stringMatching(/^tok_[0-9a-f]{20}$/),
      token: expect.stringMatching(/^aic_[A-Za-z0-9_-]{20,}$/),
      expiresAt: expect.any(String),
      label: 'laptop',
      kind: 'member',
      scope: 'team',
      teamId,
      userId: 'dee',
    });
    // 90 days unless asked otherwise.
    expect(days(memberToken.body.expiresAt)).toBeGreaterThan(89.99);
    expect(days(memberToken.body.expiresAt)).toBeLessThan(90.01);
    expect((await client(memberToken.body.token)('GET', '/v1/me')).body).toMatchObject({ userId: 'dee' });

    const agentToken = await prov()('POST', '/v1/tokens', { service: 'agent', scope: 'global', ttlDays: 365 });
    expect(agentToken.status).toBe(201);
    expect(agentToken.body).toEqual({
      tokenId: expect.stringMatching(/^tok_/),
      token: expect.stringMatching(/^aic_/),
      expiresAt: expect.any(String),
      label: null,
      kind: 'service',
      scope: 'global',
      service: 'agent',
      teamId: null,
    });
    expect(days(agentToken.body.expiresAt)).toBeGreaterThan(364.99);
    expect(days(agentToken.body.expiresAt)).toBeLessThan(365.01);
    expect((await consume(client(agentToken.body.token), teamId, 'dee', 1)).status).toBe(200);

    const financeToken = await prov()('POST', '/v1/tokens', { service: 'finance', teamId, ttlDays: 1 });
    expect(financeToken.status).toBe(201);
    expect(financeToken.body).toMatchObject({ service: 'finance', scope: 'team', teamId });
    expect(days(financeToken.body.expiresAt)).toBeLessThan(1.01);
    expect((await client(financeToken.body.token)('GET', `/v1/teams/${teamId}/ledger`)).status).toBe(200);

    // Every token and every id is different.
    const issued = [memberToken, agentToken, financeToken];
    expect(new Set(issued.map((r) => r.body.token)).size).toBe(3);
    expect(new Set(issued.map((r) => r.body.tokenId)).size).toBe(3);

    for (const body of [
      {},
      { service: 'agent' }, // neither a team nor an explicit global scope
      { service: 'finance', scope: 'team' },
      { service: 'agent', scope: 'global', teamId },
      { service: 'agent', scope: 'everywhere', teamId },
      { teamId, userId: 'dee', scope: 'global' },
      { service: 'agent', userId: 'dee', teamId },
      { service: 'admin' },
      { userId: 'dee' },
      { teamId },
      { teamId, userId: 'dee', extra: true },
      { teamId, userId: 'dee', ttlDays: 0 },
      { teamId, userId: 'dee', ttlDays: 366 },
      { teamId, userId: 'dee', ttlDays: 1.5 },
      { teamId, userId: 'dee', ttlDays: '30' },
      { teamId, userId: 'dee', label: '' },
      { teamId, userId: 'dee', label: 'x'.repeat(101) },
      { teamId, userId: 'dee', label: 'line\nbreak' },
    ]) {
      expectError(await prov()('POST', '/v1/tokens', body), 400, 'invalid_request');
    }
    expectError(await prov()('POST', '/v1/tokens', { teamId, userId: 'nobody' }), 404, 'not_found');
    expectError(await prov()('POST', '/v1/tokens', { service: 'finance', teamId: uid('team') }), 404, 'not_found');
  });
});

describe('credit routes', () => {
  it('consumptions: 200 allowed, 200 allowed_payg once the allowance is spent, replay gives the first answer', async () => {
    const teamId = await createTeam('basic');
    const dev = await member(teamId, 'dev');
    const agent = client(await tokenFor({ service: 'agent', scope: 'global' }));

    const first = await consume(agent, teamId, 'dev', '12.5', 'first');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      decision: 'allowed',
      charged: { total: '12.5', allowance: '12.5', purchased: '0', payg: '0' },
      balance: expect.any(Object),
    });
    expectBalance(first.body.balance, {
      allowance: '400',
      purchased: '0',
      used: '12.5',
      remaining: '387.5',
      paygEnabled: true,
      paygAvailable: true,
      paygCredits: '0',
      paygCharge: { amountMinor: 0, currency: 'USD' },
      paused: false,
    });

    // The member spends for themselves too (spec §12: agent service, the member).
    expect((await consume(dev, teamId, 'dev', 200)).body).toMatchObject({ decision: 'allowed' });
    const last = await consume(agent, teamId, 'dev', '187.5');
    expect(last.body).toMatchObject({ decision: 'allowed', balance: { remaining: '0', paused: false } });

    const payg = await consume(agent, teamId, 'dev', 2);
    expect(payg.status).toBe(200);
    expect(payg.body).toMatchObject({
      decision: 'allowed_payg',
      charged: { total: '2', allowance: '0', purchased: '0', payg: '2' },
      // 2 credits × $0.04 = 8 cents.
      balance: { used: '400', remaining: '0', paygCredits: '2', paygCharge: { amountMinor: 8, currency: 'USD' } },
    });
    expectBalance(payg.body.balance);

    const replay = await consume(agent, teamId, 'dev', '12.5', 'first');
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(first.body);
  });

  it('consumptions: 402 refused with reason insufficient_credits, then paused, and nothing recorded', async () => {
    const teamId = await createTeam('free');
    const fr = await member(teamId, 'fr');
    expect((await consume(fr, teamId, 'fr', 40)).status).toBe(200);

    const tooBig = await consume(fr, teamId, 'fr', 20, 'too-big');
    expect(tooBig.status).toBe(402);
    expect(tooBig.body).toMatchObject({ decision: 'refused', reason: 'insufficient_credits' });
    expectBalance(tooBig.body.balance, {
      allowance: '50',
      used: '40',
      remaining: '10',
      paygEnabled: false,
      paygAvailable: false,
      paused: false,
    });

    const rest = await consume(fr, teamId, 'fr', 10);
    expect(rest.status).toBe(200);
    expect(rest.body.balance).toMatchObject({ remaining: '0', paused: true });

    const paused = await consume(fr, teamId, 'fr', '0.001', 'while-paused');
    expect(paused.status).toBe(402);
    expect(paused.body).toMatchObject({ decision: 'refused', reason: 'paused' });
    expectBalance(paused.body.balance, { used: '50', remaining: '0', paused: true });

    const rows = await eventually(async () => {
      const r = await ledgerRows(teamId, 'fr');
      return r.length >= 3 ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await ledgerRows(teamId, 'fr')).map((r) => `${r.kind}:${r.millicredits}`)).toEqual([
      'grant:50000',
      'consume:40000',
      'consume:10000',
    ]);
    expect(rows.some((r) => r.requestId === 'too-big' || r.requestId === 'while-paused')).toBe(false);
  });

  it('GET credits: the live balance of the current period with the plan terms', async () => {
    const teamId = await createTeam('basic');
    const eve = await member(teamId, 'eve');
    await consume(eve, teamId, 'eve', '1.25');
    const res = await eve('GET', `/v1/teams/${teamId}/members/eve/credits`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      teamId,
      userId: 'eve',
      plan: 'basic',
      planTerms: {
        planId: 'basic',
        monthlyAllowance: '400',
        paygAvailable: true,
        paygRateMicrosPerCredit: 40000,
        purchasesAllowed: true,
        purchaseRateMicrosPerCredit: 35000,
        maxPurchaseCredits: '100000',
        maxCreditsPerAction: '200',
        currency: 'USD',
        currencyExponent: 2,
      },
      notificationsSent: [],
      balance: expect.any(Object),
    });
    expectBalance(res.body.balance, { used: '1.25', remaining: '398.75' });
    expectError(await eve('GET', `/v1/teams/${teamId}/members/nobody/credits`), 403, 'forbidden');
    const finance = client(await tokenFor({ service: 'finance', scope: 'global' }));
    expectError(await finance('GET', `/v1/teams/${teamId}/members/nobody/credits`), 404, 'not_found');
  });

  it('PUT payg: off in overage pauses at once, on resumes; 422 on a free plan; 400 on a bad body', async () => {
    const teamId = await createTeam('basic');
    await member(teamId, 'max');
    const billing = await member(teamId, 'bil', ['billing']);
    const agent = client(await tokenFor({ service: 'agent', scope: 'global' }));
    await consume(agent, teamId, 'max', 200);
    await consume(agent, teamId, 'max', 200);
    expect((await consume(agent, teamId, 'max', 1)).body.decision).toBe('allowed_payg');

    const off = await billing('PUT', `/v1/teams/${teamId}/members/max/payg`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ teamId, userId: 'max', balance: expect.any(Object) });
    expectBalance(off.body.balance, { paygEnabled: false, paused: true, paygCredits: '1' });
    const refused = await consume(agent, teamId, 'max', 1);
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ decision: 'refused', reason: 'paused' });

    const on = await billing('PUT', `/v1/teams/${teamId}/members/max/payg`, { enabled: true });
    expect(on.status).toBe(200);
    expect(on.body.balance).toMatchObject({ paygEnabled: true, paused: false });
    expect((await consume(agent, teamId, 'max', 1)).body).toMatchObject({
      decision: 'allowed_payg',
      balance: { paygCredits: '2' },
    });

    for (const body of [{ enabled: 'yes' }, { enabled: 1 }, {}, { enabled: true, extra: 1 }]) {
      expectError(await billing('PUT', `/v1/teams/${teamId}/members/max/payg`, body), 400, 'invalid_request');
    }
    expectError(await billing('PUT', `/v1/teams/${teamId}/members/nobody/payg`, { enabled: true }), 404, 'not_found');

    const freeTeam = await createTeam('free');
    await member(freeTeam, 'fm');
    const freeBilling = await member(freeTeam, 'fb', ['billing']);
    expectError(
      await freeBilling('PUT', `/v1/teams/${freeTeam}/members/fm/payg`, { enabled: true }),
      422,
      'not_allowed',
    );
    const offOnFree = await freeBilling('PUT', `/v1/teams/${freeTeam}/members/fm/payg`, { enabled: false });
    expect(offOnFree.status).toBe(200);
    expect(offOnFree.body.balance).toMatchObject({ paygEnabled: false, paygAvailable: false });
  });

  it('POST credit-purchases: 201, then 200 with the same answer for the same purchaseId; 422 on a free plan', async () => {
    const teamId = await createTeam('basic');
    await member(teamId, 'pam');
    const billing = await member(teamId, 'bil', ['billing']);
    const path = `/v1/teams/${teamId}/members/pam/credit-purchases`;

    const bought = await billing('POST', path, { purchaseId: 'po-1', credits: '10' });
    expect(bought.status).toBe(201);
    expect(bought.body).toEqual({
      purchaseId: 'po-1',
      credits: '10',
      price: { amountMinor: 35, currency: 'USD' }, // 10 × $0.035
      balance: expect.any(Object),
    });
    expectBalance(bought.body.balance, { purchased: '10', remaining: '410' });

    const again = await billing('POST', path, { purchaseId: 'po-1', credits: '10' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(bought.body);
    const credits = await billing('GET', `/v1/teams/${teamId}/members/pam/credits`);
    expect(credits.body.balance).toMatchObject({ purchased: '10', remaining: '410' });

    for (const body of [
      { purchaseId: 'po-2', credits: '100000.001' },
      { purchaseId: 'po-2', credits: 0 },
      { purchaseId: 'po-2', credits: '1.0001' },
      { purchaseId: 'po-2' },
      { purchaseId: 'has space', credits: 1 },
    ]) {
      expectError(await billing('POST', path, body), 400, 'invalid_request');
    }

    const freeTeam = await createTeam('free');
    await member(freeTeam, 'fm');
    const freeBilling = await member(freeTeam, 'fb', ['billing']);
    expectError(
      await freeBilling('POST', `/v1/teams/${freeTeam}/members/fm/credit-purchases`, { purchaseId: 'p', credits: 1 }),
      422,
      'not_allowed',
    );
  });

  it('GET usage: every active member with their balance', async () => {
    const teamId = await createTeam('basic');
    const admin = await member(teamId, 'amy', ['member', 'admin']);
    await member(teamId, 'bob');
    await consume(admin, teamId, 'amy', 3);
    const res = await admin('GET', `/v1/teams/${teamId}/usage`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ teamId, plan: 'basic', planTerms: { planId: 'basic', monthlyAllowance: '400' } });
    expect(res.body.members).toEqual([
      { userId: 'amy', email: `amy@${teamId}.example`, roles: ['member', 'admin'], balance: expect.any(Object) },
      { userId: 'bob', email: `bob@${teamId}.example`, roles: ['member'], balance: expect.any(Object) },
    ]);
    expectBalance(res.body.members[0].balance, { used: '3' });
    expectBalance(res.body.members[1].balance, { used: '0', remaining: '400' });
  });
});

describe('invoice and finance routes', () => {
  let teamId: string;
  let billing: Client;
  let finance: Client;
  let periodStart: string;

  beforeAll(async () => {
    teamId = await createTeam('basic');
    await member(teamId, 'ivy');
    await member(teamId, 'pay');
    billing = await member(teamId, 'bil', ['billing']);
    finance = client(await tokenFor({ service: 'finance', scope: 'global' }));
    const agent = client(await tokenFor({ service: 'agent', scope: 'global' }));
    const bought = await billing('POST', `/v1/teams/${teamId}/members/ivy/credit-purchases`, {
      purchaseId: 'inv-po',
      credits: 10,
    });
    expect(bought.status).toBe(201);
    periodStart = bought.body.balance.periodStart;
    await consume(agent, teamId, 'ivy', 4, 'ivy-1');
    await consume(agent, teamId, 'pay', 200, 'pay-1');
    await consume(agent, teamId, 'pay', 200, 'pay-2');
    expect((await consume(agent, teamId, 'pay', 3, 'pay-3')).body.decision).toBe('allowed_payg');
  });

  it('GET invoices and GET invoices/{id}: after a purchase there is an open invoice with its line', async () => {
    const list = await eventually(
      async () => {
        const r = await billing('GET', `/v1/teams/${teamId}/invoices`);
        return r.body.invoices?.[0]?.total.amountMinor === 35 ? r : undefined;
      },
      20_000,
      'the purchase on the open invoice',
    );
    expect(list.status).toBe(200);
    expect(list.body.invoices).toEqual([
      {
        invoiceId: expect.stringMatching(/^\d+$/),
        sequence: 1,
        status: 'open',
        total: { amountMinor: 35, currency: 'USD' },
        openedAt: expect.any(String),
        finalizedAt: null,
      },
    ]);
    const invoiceId = list.body.invoices[0].invoiceId as string;

    for (const reader of [billing, finance]) {
      const one = await reader('GET', `/v1/teams/${teamId}/invoices/${invoiceId}`);
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        ...list.body.invoices[0],
        lines: [
          {
            userId: 'ivy',
            kind: 'purchase',
            description: expect.stringContaining('ivy'),
            periodStart,
            periodEnd: expect.any(String),
            credits: '10',
            rateMicrosPerCredit: 35000,
            amount: { amountMinor: 35, currency: 'USD' },
            postedAt: expect.any(String),
          },
        ],
      });
    }
    expect((await finance('GET', `/v1/teams/${teamId}/invoices`)).body).toEqual(list.body);
    expectError(await finance('GET', `/v1/teams/${teamId}/invoices/999999999999`), 404, 'not_found');
    expectError(await finance('GET', `/v1/teams/${teamId}/invoices/abc`), 400, 'invalid_request');

    // Another team's invoice is not reachable through this team's path.
    const other = await createTeam('basic');
    await member(other, 'o');
    const otherBilling = await member(other, 'ob', ['billing']);
    await otherBilling('POST', `/v1/teams/${other}/members/o/credit-purchases`, { purchaseId: 'x', credits: 1 });
    const otherInvoice = await eventually(async () => {
      const r = await finance('GET', `/v1/teams/${other}/invoices`);
      return r.body.invoices?.[0]?.invoiceId as string | undefined;
    });
    expectError(await finance('GET', `/v1/teams/${teamId}/invoices/${otherInvoice}`), 404, 'not_found');
    expectError(await billing('GET', `/v1/teams/${teamId}/invoices/${otherInvoice}`), 404, 'not_found');
  });

  it('GET invoices/preview: the open invoice lines plus the PAYG accruing this period', async () => {
    const preview = await eventually(async () => {
      const r = await finance('GET', `/v1/teams/${teamId}/invoices/preview`);
      return r.body.posted?.length === 1 ? r : undefined;
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      teamId,
      periodStart,
      periodEnd: expect.any(String),
      finalizesAt: expect.any(String),
      openInvoiceId: expect.stringMatching(/^\d+$/),
      posted: [
        {
          userId: 'ivy',
          kind: 'purchase',
          description: expect.any(String),
          credits: '10',
          rateMicrosPerCredit: 35_000,
          amount: { amountMinor: 35, currency: 'USD' },
        },
      ],
      // 3 credits × $0.04 = 12 cents, not yet posted (posted at the period end).
      accruingPayg: [{ userId: 'pay', paygCredits: '3', amount: { amountMinor: 12, currency: 'USD' } }],
      estimatedTotal: { amountMinor: 47, currency: 'USD' },
    });
    expect(Date.parse(preview.body.finalizesAt)).toBeGreaterThanOrEqual(Date.parse(preview.body.periodEnd));
    expect((await billing('GET', `/v1/teams/${teamId}/invoices/preview`)).status).toBe(200);
  });

  it('GET ledger (finance): every row of the team, filtered by ?periodStart= and ?userId=', async () => {
    const all = await eventually(async () => {
      const r = await finance('GET', `/v1/teams/${teamId}/ledger`);
      return r.body.entries?.length >= 8 ? r : undefined;
    });
    expect(all.status).toBe(200);
    const summary = (entries: { userId: string; kind: string; credits: string; requestId: string | null }[]) =>
      entries.map((e) => `${e.userId}:${e.kind}:${e.credits}:${e.requestId ?? ''}`).sort();
    expect(summary(all.body.entries)).toEqual(
      [
        'bil:grant:400:',
        'ivy:consume:4:ivy-1',
        'ivy:grant:400:',
        'ivy:purchase:10:inv-po',
        'pay:consume:200:pay-1',
        'pay:consume:200:pay-2',
        'pay:grant:400:',
        'pay:payg:3:pay-3',
      ].sort(),
    );
    const purchase = all.body.entries.find((e: { kind: string }) => e.kind === 'purchase');
    expect(purchase).toEqual({
      id: expect.any(Number),
      userId: 'ivy',
      kind: 'purchase',
      credits: '10',
      amount: { amountMinor: 35, currency: 'USD' },
      periodStart,
      periodEnd: expect.any(String),
      requestId: 'inv-po',
      action: null,
      occurredAt: expect.any(String),
      workflowId: `ai-credits/member/${teamId}/ivy`,
      runId: expect.any(String),
    });

    const inPeriod = await finance('GET', `/v1/teams/${teamId}/ledger?periodStart=${encodeURIComponent(periodStart)}`);
    expect(inPeriod.status).toBe(200);
    expect(summary(inPeriod.body.entries)).toEqual(summary(all.body.entries));
    const before = await finance('GET', `/v1/teams/${teamId}/ledger?periodStart=2000-01-01T00:00:00.000Z`);
    expect(before.body).toEqual({ entries: [], nextCursor: null });
    const ivy = await finance('GET', `/v1/teams/${teamId}/ledger?userId=ivy`);
    expect(summary(ivy.body.entries)).toEqual(['ivy:consume:4:ivy-1', 'ivy:grant:400:', 'ivy:purchase:10:inv-po']);

    expectError(await finance('GET', `/v1/teams/${teamId}/ledger?periodStart=yesterday`), 400, 'invalid_request');
    expectError(await finance('GET', `/v1/teams/${teamId}/ledger?limit=0`), 400, 'invalid_request');
    expectError(await finance('GET', `/v1/teams/${teamId}/ledger?cursor=last`), 400, 'invalid_request');
    expectError(await finance('GET', `/v1/teams/${teamId}/ledger?offset=5`), 400, 'invalid_request');
    expectError(await finance('GET', `/v1/teams/${uid('team')}/ledger`), 404, 'not_found');
  });
});

describe('caller routes', () => {
  it('GET /v1/me/alerts: once the member crosses 75 % they have an alert (only they do)', async () => {
    const teamId = await createTeam('basic');
    const al = await member(teamId, 'al');
    const bo = await member(teamId, 'bo');
    expect((await al('GET', '/v1/me/alerts')).body).toEqual({ alerts: [], nextCursor: null });
    await consume(al, teamId, 'al', 200);
    await consume(al, teamId, 'al', 100); // 300 of 400 = 75 %
    const alerts = await eventually(
      async () => {
        const r = await al('GET', '/v1/me/alerts');
        return r.body.alerts?.length > 0 ? r : undefined;
      },
      20_000,
      'the 75 % alert',
    );
    expect(alerts.status).toBe(200);
    expect(alerts.body.alerts).toEqual([
      { id: expect.any(Number), kind: 'member_75', message: expect.any(String), createdAt: expect.any(String) },
    ]);
    expect(Number.isNaN(Date.parse(alerts.body.alerts[0].createdAt))).toBe(false);
    expect((await bo('GET', '/v1/me/alerts')).body).toEqual({ alerts: [], nextCursor: null });
    const credits = await al('GET', `/v1/teams/${teamId}/members/al/credits`);
    expect(credits.body.notificationsSent).toEqual(['member_75']);
  });

  it('GET /v1/me: who the token belongs to', async () => {
    const teamId = await createTeam('basic');
    const zed = await member(teamId, 'zed', ['member', 'billing']);
    const res = await zed('GET', '/v1/me');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ teamId, userId: 'zed', email: `zed@${teamId}.example`, roles: ['member', 'billing'] });
  });
});

describe('public routes', () => {
  it('GET /healthz: 200 with every check up, without a token', async () => {
    const res = await client()('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { database: true, temporal: true } });
  });

  it('GET /openapi.json: a valid OpenAPI document listing every v1 route', async () => {
    const res = await fetch(`${served.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const doc = JSON.parse(await res.text());
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const member = '/v1/teams/{teamId}/members/{userId}';
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/teams',
        `PUT ${member}`,
        `DELETE ${member}`,
        'POST /v1/tokens',
        `POST ${member}/consumptions`,
        `GET ${member}/credits`,
        `PUT ${member}/payg`,
        `POST ${member}/credit-purchases`,
        'GET /v1/teams/{teamId}/usage',
        'GET /v1/teams/{teamId}/invoices',
        'GET /v1/teams/{teamId}/invoices/{invoiceId}',
        'GET /v1/teams/{teamId}/invoices/preview',
        'GET /v1/teams/{teamId}/ledger',
        'GET /v1/me/alerts',
        'GET /v1/me',
        'DELETE /v1/tokens/{tokenId}',
        'GET /v1/teams/{teamId}/tokens',
        'GET /v1/teams/{teamId}/audit',
      ]),
    );
    // The consumption body schema is documented with its required fields.
    const consumption = doc.paths[`${member}/consumptions`].post;
    expect(JSON.stringify(consumption)).toContain('requestId');
  });

  it('GET /metrics: Prometheus text with the consumption counter', async () => {
    const teamId = await createTeam('basic');
    const m = await member(teamId, 'met');
    await consume(m, teamId, 'met', 1);
    const res = await client()('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE ai_credits_consumptions_total counter');
    expect(res.body).toMatch(/ai_credits_consumptions_total\{decision="allowed"\} [1-9]/);
  });

  it('security headers on every answer: JSON, errors, unknown routes and the dashboard', async () => {
    const teamId = await createTeam('basic');
    const m = await member(teamId, 'hdr');
    for (const [path, token] of [
      ['/healthz', undefined],
      ['/v1/me', undefined], // 401
      ['/v1/me', 'aic_unknown'], // 401
      [`/v1/teams/${teamId}/usage`, undefined],
      ['/no/such/route', undefined],
      ['/dashboard', undefined],
      ['/dashboard/app.js', undefined],
      ['/openapi.json', undefined],
    ] as const) {
      const res = await fetch(`${served.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const where = `${path} (${res.status})`;
      const headers = Object.fromEntries(
        ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'strict-transport-security'].map(
          (name) => [name, res.headers.get(name)],
        ),
      );
      expect({ where, headers }).toEqual({
        where,
        headers: {
          'content-security-policy': expect.stringContaining("script-src 'self'"),
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'SAMEORIGIN',
          'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
        },
      });
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    expect((await m('GET', '/v1/me')).headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('GET /dashboard: the HTML page and its assets, without a token', async () => {
    const page = await fetch(`${served.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/^<!doctype html>/i);
    const js = await fetch(`${served.url}/dashboard/main.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const css = await fetch(`${served.url}/dashboard/style.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const slash = await fetch(`${served.url}/dashboard/`, { redirect: 'manual' });
    expect(slash.status).toBeGreaterThanOrEqual(300);
    expect(slash.status).toBeLessThan(400);
    expect(slash.headers.get('location')).toBe('/dashboard');
  });
});
