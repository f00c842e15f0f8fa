/**
 * The access policy of spec §11 as one table: every route × every kind of caller, over real HTTP.
 *
 * Team A is the team every path names; `self` is the member the path names (mia, or a fresh member for
 * DELETE); team B is somebody else's team. A caller bound to another team gets 404 (the team's existence is
 * not even confirmed, exactly as for a team that does not exist), never a 2xx. Denied answers carry the
 * error body only, with nothing of team A in it.
 */
import type { FastifyInstance } from 'fastify';
import { apiClient, PROVISIONING_TOKEN, startApi, useServedApi, type ApiResponse } from '../support/api';
import { hashToken } from '../../src/db/token-store';
import { eventually, uid } from '../support/harness';

const served = useServedApi();
const { client, prov, token: issue } = served;

/** Callers, in the column order of the table. */
const CALLERS = [
  'none', // no Authorization header
  'bad', // a well-formed but unknown token
  'removed', // the token of a member who has been removed from team A
  'prov', // provisioning
  'agent', // agent service, all teams
  'fin', // finance service, all teams
  'agentA', // agent service scoped to team A
  'finA', // finance service scoped to team A
  'agentB', // agent service scoped to team B
  'finB', // finance service scoped to team B
  'self', // the member the path names (team A, role member)
  'other', // another plain member of team A
  'admin', // team A admin
  'billing', // team A billing
  'adminB', // admin of team B
  'billingB', // billing of team B
] as const;
type Caller = (typeof CALLERS)[number];

/** `OK`: allowed (2xx, or 402 for a refused consumption); otherwise the exact denial status. */
const OK = 'ok';
type Outcome = typeof OK | 401 | 403 | 404;

interface Ctx {
  teamA: string;
  /** The member the path names. */
  userId: string;
  invoiceId: string;
  /** The token the path names (for DELETE /v1/tokens/{tokenId}). */
  tokenId: string;
  n: number;
}

interface Route {
  method: string;
  path: (c: Ctx) => string;
  body?: (c: Ctx) => unknown;
  /** A fresh member to act on (for DELETE): `self` then means that member's own token. */
  freshMember?: boolean;
  /** A fresh token of team A to act on (a finance token scoped to team A, for DELETE /v1/tokens/{tokenId}). */
  freshToken?: boolean;
}

/** Prefix of the teams the POST /v1/teams row tries to create. */
const RUN = uid('access');

const m = (c: Ctx) => `/v1/teams/${c.teamA}/members/${c.userId}`;
const t = (c: Ctx) => `/v1/teams/${c.teamA}`;

const ROUTES: Record<string, Route> = {
  'POST /v1/teams': {
    method: 'POST',
    path: () => '/v1/teams',
    body: (c) => ({ teamId: `${RUN}-${c.n}`, plan: 'basic', billingAnchorDay: 1 }),
  },
  'PUT member': {
    method: 'PUT',
    path: m,
    body: (c) => ({ email: `${c.userId}@${c.teamA}.example`, roles: ['member'] }),
  },
  'DELETE member': { method: 'DELETE', path: m, freshMember: true },
  'POST /v1/tokens': { method: 'POST', path: () => '/v1/tokens', body: () => ({ service: 'agent', scope: 'global' }) },
  'DELETE /v1/tokens/{id}': { method: 'DELETE', path: (c) => `/v1/tokens/${c.tokenId}`, freshToken: true },
  'GET tokens': { method: 'GET', path: (c) => `${t(c)}/tokens` },
  'GET audit': { method: 'GET', path: (c) => `${t(c)}/audit` },
  'POST consumptions': {
    method: 'POST',
    path: (c) => `${m(c)}/consumptions`,
    body: (c) => ({ requestId: `access-${c.n}`, action: 'chat', credits: '0.5' }),
  },
  'GET credits': { method: 'GET', path: (c) => `${m(c)}/credits` },
  'PUT payg': { method: 'PUT', path: (c) => `${m(c)}/payg`, body: () => ({ enabled: true }) },
  'POST credit-purchases': {
    method: 'POST',
    path: (c) => `${m(c)}/credit-purchases`,
    body: (c) => ({ purchaseId: `access-${c.n}`, credits: '0.5' }),
  },
  'GET usage': { method: 'GET', path: (c) => `${t(c)}/usage` },
  'GET invoices': { method: 'GET', path: (c) => `${t(c)}/invoices` },
  'GET invoices/{id}': { method: 'GET', path: (c) => `${t(c)}/invoices/${c.invoiceId}` },
  'GET invoices/preview': { method: 'GET', path: (c) => `${t(c)}/invoices/preview` },
  'GET ledger': { method: 'GET', path: (c) => `${t(c)}/ledger?periodStart=2000-01-01T00:00:00Z` },
  'PATCH team': { method: 'PATCH', path: t, body: () => ({ plan: 'basic' }) },
  'POST webhooks': {
    method: 'POST',
    path: (c) => `${t(c)}/webhooks`,
    body: () => ({ url: 'http://127.0.0.1:9/hook', events: ['member.paused'] }),
  },
  'GET webhooks': { method: 'GET', path: (c) => `${t(c)}/webhooks` },
  'GET webhook deliveries': { method: 'GET', path: (c) => `${t(c)}/webhooks/access/deliveries` },
  'GET /v1/me/alerts': { method: 'GET', path: () => '/v1/me/alerts' },
  'GET /v1/me': { method: 'GET', path: () => '/v1/me' },
  'GET /healthz': { method: 'GET', path: () => '/healthz' },
  'GET /openapi.json': { method: 'GET', path: () => '/openapi.json' },
  'GET /metrics': { method: 'GET', path: () => '/metrics' },
  'GET /dashboard': { method: 'GET', path: () => '/dashboard' },
};
type RouteName = keyof typeof ROUTES;

// prettier-ignore
const MATRIX: Record<RouteName, Outcome[]> = {
  //                         none  bad  removed  prov  agent  fin  agentA  finA  agentB  finB  self  other  admin  billing  adminB  billingB
  'POST /v1/teams':         [401,  401, 401,     OK,   403,   403, 403,    403,  403,    403,  403,  403,   403,   403,     403,    403],
  'PUT member':             [401,  401, 401,     OK,   403,   403, 403,    403,  404,    404,  403,  403,   OK,    403,     404,    404],
  'DELETE member':          [401,  401, 401,     OK,   403,   403, 403,    403,  404,    404,  403,  403,   OK,    403,     404,    404],
  'POST /v1/tokens':        [401,  401, 401,     OK,   403,   403, 403,    403,  403,    403,  403,  403,   403,   403,     403,    403],
  'DELETE /v1/tokens/{id}': [401,  401, 401,     OK,   403,   403, 403,    403,  403,    403,  403,  403,   OK,    403,     404,    403],
  'GET tokens':             [401,  401, 401,     OK,   403,   403, 403,    403,  404,    404,  403,  403,   OK,    403,     404,    404],
  'GET audit':              [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   OK,    OK,      404,    404],
  'POST consumptions':      [401,  401, 401,     403,  OK,    403, OK,     403,  404,    404,  OK,   403,   403,   403,     404,    404],
  'GET credits':            [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  OK,   403,   OK,    OK,      404,    404],
  'PUT payg':               [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   403,   OK,      404,    404],
  'POST credit-purchases':  [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   403,   OK,      404,    404],
  'GET usage':              [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   OK,    OK,      404,    404],
  'GET invoices':           [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET invoices/{id}':      [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET invoices/preview':   [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET ledger':             [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   403,     404,    404],
  'PATCH team':             [401,  401, 401,     OK,   403,   403, 403,    403,  404,    404,  403,  403,   403,   OK,      404,    404],
  'POST webhooks':          [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   OK,    OK,      404,    404],
  'GET webhooks':           [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   OK,    OK,      404,    404],
  'GET webhook deliveries': [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   OK,    OK,      404,    404],
  'GET /v1/me/alerts':      [401,  401, 401,     403,  403,   403, 403,    403,  403,    403,  OK,   OK,    OK,    OK,      OK,     OK],
  'GET /v1/me':             [401,  401, 401,     403,  403,   403, 403,    403,  403,    403,  OK,   OK,    OK,    OK,      OK,     OK],
  'GET /healthz':           [OK,   OK,  OK,      OK,   OK,    OK,  OK,     OK,   OK,     OK,   OK,   OK,    OK,    OK,      OK,     OK],
  'GET /openapi.json':      [OK,   OK,  OK,      OK,   OK,    OK,  OK,     OK,   OK,     OK,   OK,   OK,    OK,    OK,      OK,     OK],
  'GET /metrics':           [OK,   OK,  OK,      OK,   OK,    OK,  OK,     OK,   OK,     OK,   OK,   OK,    OK,    OK,      OK,     OK],
  'GET /dashboard':         [OK,   OK,  OK,      OK,   OK,    OK,  OK,     OK,   OK,     OK,   OK,   OK,    OK,    OK,      OK,     OK],
};

const ERROR_CODE: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found' };

let teamA: string;
let teamB: string;
let invoiceId: string;
const tokens = {} as Record<Exclude<Caller, 'none'>, string>;
/** Strings that are team A's data: they must never appear in an answer to a caller who was denied. */
let secretsOfA: string[] = [];
let n = 0;

async function addMember(teamId: string, userId: string, roles: string[]): Promise<string> {
  const res = await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, {
    email: `${userId}@${teamId}.example`,
    roles,
  });
  expect(res.status).toBe(200);
  return issue({ teamId, userId });
}

beforeAll(async () => {
  teamA = uid('team');
  teamB = uid('team');
  for (const teamId of [teamA, teamB]) {
    expect((await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 })).status).toBe(201);
  }
  tokens.self = await addMember(teamA, 'mia', ['member']);
  tokens.other = await addMember(teamA, 'olly', ['member']);
  tokens.admin = await addMember(teamA, 'ada', ['admin']);
  tokens.billing = await addMember(teamA, 'bea', ['billing']);
  tokens.removed = await addMember(teamA, 'rex', ['member', 'admin', 'billing']);
  expect((await prov()('DELETE', `/v1/teams/${teamA}/members/rex`)).status).toBe(204);
  tokens.adminB = await addMember(teamB, 'adam', ['admin']);
  tokens.billingB = await addMember(teamB, 'bill', ['billing']);
  tokens.prov = PROVISIONING_TOKEN;
  tokens.bad = `aic_${'x'.repeat(43)}`;
  tokens.agent = await issue({ service: 'agent', scope: 'global' });
  tokens.fin = await issue({ service: 'finance', scope: 'global' });
  tokens.agentA = await issue({ service: 'agent', teamId: teamA });
  tokens.finA = await issue({ service: 'finance', teamId: teamA });
  tokens.agentB = await issue({ service: 'agent', teamId: teamB });
  tokens.finB = await issue({ service: 'finance', teamId: teamB });

  // An invoice of team A (the purchase lands on the open invoice through an activity).
  const bought = await client(tokens.billing)('POST', `/v1/teams/${teamA}/members/mia/credit-purchases`, {
    purchaseId: 'setup',
    credits: 1,
  });
  expect(bought.status).toBe(201);
  invoiceId = await eventually(
    async () => (await served.h.db('invoices').where({ team_id: teamA }).first('id'))?.id as string | undefined,
    20_000,
    "team A's open invoice",
  ).then(String);

  // A webhook of team A, for the delivery log's row.
  const hook = await client(tokens.admin)('PUT', `/v1/teams/${teamA}/webhooks/access`, {
    url: 'http://127.0.0.1:9/hook',
    events: ['member.paused'],
  });
  expect(hook.status).toBe(201);

  secretsOfA = [
    ...['mia', 'olly', 'ada', 'bea', 'rex'].map((u) => `${u}@${teamA}.example`),
    ...Object.values(tokens).filter((tk) => tk.startsWith('aic_') && tk !== tokens.bad),
    PROVISIONING_TOKEN,
    hook.body.secret,
  ];
});

/** What a caller's request looks like; `self` on a fresh-member route is that member's own token. */
async function call(route: Route, caller: Caller): Promise<{ res: ApiResponse; ctx: Ctx }> {
  const ctx: Ctx = { teamA, userId: 'mia', invoiceId, tokenId: 'tok_00000000000000000000', n: ++n };
  if (route.freshToken) {
    const res = await prov()('POST', '/v1/tokens', { service: 'finance', teamId: teamA, label: `fresh-${ctx.n}` });
    expect(res.status).toBe(201);
    ctx.tokenId = res.body.tokenId;
  }
  let token: string | undefined = caller === 'none' ? undefined : tokens[caller];
  if (route.freshMember) {
    ctx.userId = `fresh-${ctx.n}`;
    const own = await addMember(teamA, ctx.userId, ['member']);
    if (caller === 'self') token = own;
  }
  const res = await client(token)(route.method, route.path(ctx), route.body?.(ctx));
  return { res, ctx };
}

const outcomeOf = (status: number): Outcome | number =>
  (status >= 200 && status < 300) || status === 402 ? OK : status;

describe('access matrix (spec §11)', () => {
  it('lists every route once and every caller once per row', () => {
    for (const row of Object.values(MATRIX)) expect(row).toHaveLength(CALLERS.length);
    expect(Object.keys(MATRIX).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it.each(Object.keys(MATRIX))('%s', async (name) => {
    const route = ROUTES[name];
    const expected = Object.fromEntries(CALLERS.map((c, i) => [c, MATRIX[name][i]]));
    const results = await Promise.all(CALLERS.map((caller) => call(route, caller)));
    const actual = Object.fromEntries(CALLERS.map((c, i) => [c, outcomeOf(results[i].res.status)]));
    expect(actual).toEqual(expected);

    for (const [i, caller] of CALLERS.entries()) {
      const { res, ctx } = results[i];
      if (outcomeOf(res.status) === OK) continue;
      const where = `${name} as ${caller}`;
      // Denied: the error body and nothing else.
      expect({ where, body: res.body }).toEqual({
        where,
        body: { error: { code: ERROR_CODE[res.status], message: expect.any(String) } },
      });
      const text = JSON.stringify(res.body);
      for (const secret of secretsOfA) expect({ where, leaks: text.includes(secret) }).toEqual({ where, leaks: false });
      for (const field of [
        'balance',
        'allowance',
        'remaining',
        'entries',
        'invoices',
        'members',
        'alerts',
        'tokens',
        'events',
      ]) {
        expect({ where, leaks: text.includes(`"${field}"`) }).toEqual({ where, leaks: false });
      }
      // A team-A path answered 404 to a caller of another team reads exactly like a team that does not exist.
      if (res.status === 404) {
        const ghost = uid('team');
        const again = await client(caller === 'none' ? undefined : tokens[caller])(
          route.method,
          route.path({ ...ctx, teamA: ghost }),
          route.body?.({ ...ctx, teamA: ghost, n: ++n }),
        );
        expect({ where, status: again.status, body: JSON.stringify(again.body).replaceAll(ghost, teamA) }).toEqual({
          where,
          status: 404,
          body: text,
        });
      }
    }
  });

  it('the denied requests changed nothing of team A', async () => {
    // Only the allowed callers' consumptions and purchases landed (plus the grant and the setup purchase).
    const allowed = (route: RouteName) => MATRIX[route].filter((o) => o === OK).length;
    const expected = [
      'grant',
      'purchase',
      ...Array<string>(allowed('POST consumptions')).fill('consume'),
      ...Array<string>(allowed('POST credit-purchases')).fill('purchase'),
    ].sort();
    const kinds = async () =>
      ((await served.h.db('ledger_entries').where({ team_id: teamA, user_id: 'mia' })) as { kind: string }[])
        .map((r) => r.kind)
        .sort();
    await eventually(async () => ((await kinds()).length >= expected.length ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await kinds()).toEqual(expected);
    // mia is still a plain member; the fresh members named by DELETE are gone only where it was allowed.
    expect(await served.h.teams.getMember(teamA, 'mia')).toMatchObject({ roles: ['member'], status: 'active' });
    const fresh = (await served.h.teams.listMembers(teamA, { includeRemoved: true })).filter((mm) =>
      mm.userId.startsWith('fresh-'),
    );
    expect(fresh.filter((mm) => mm.status === 'removed')).toHaveLength(
      MATRIX['DELETE member'].filter((o) => o === OK).length,
    );
    // Only the allowed callers revoked a token.
    const freshTokens = await served.h.db('api_tokens').where('team_id', teamA).andWhere('label', 'like', 'fresh-%');
    expect(freshTokens.filter((r) => r.revoked_at !== null)).toHaveLength(
      MATRIX['DELETE /v1/tokens/{id}'].filter((o) => o === OK).length,
    );
    // No team was created by anyone but provisioning, and no member of team B changed.
    const [{ n: created }] = await served.h.db('teams').where('team_id', 'like', `${RUN}-%`).count({ n: '*' });
    expect(Number(created)).toBe(allowed('POST /v1/teams'));
    expect((await served.h.teams.listMembers(teamB)).map((mm) => `${mm.userId}:${mm.roles.join('+')}`)).toEqual([
      'adam:admin',
      'bill:billing',
    ]);
  });
});

describe('nobody grants what they do not hold (spec §17)', () => {
  /** A fresh paid team with an admin (ada), two Billing members (bea, bob), an admin who is Billing too (abe). */
  async function paidTeam(plan = 'basic') {
    const teamId = uid('team');
    expect((await prov()('POST', '/v1/teams', { teamId, plan, billingAnchorDay: 1 })).status).toBe(201);
    const token = {
      ada: await addMember(teamId, 'ada', ['member', 'admin']),
      abe: await addMember(teamId, 'abe', ['admin', 'billing']),
      bea: await addMember(teamId, 'bea', ['billing']),
      bob: await addMember(teamId, 'bob', ['member']),
      mia: await addMember(teamId, 'mia', ['member']),
    };
    const as = (who: keyof typeof token) => client(token[who]);
    const put = (
      who: keyof typeof token | 'prov',
      userId: string,
      roles: string[],
      email = `${userId}@${teamId}.example`,
    ) => (who === 'prov' ? prov() : as(who))('PUT', `/v1/teams/${teamId}/members/${userId}`, { email, roles });
    const del = (who: keyof typeof token | 'prov', userId: string) =>
      (who === 'prov' ? prov() : as(who))('DELETE', `/v1/teams/${teamId}/members/${userId}`);
    const roles = async (userId: string) => {
      const m = await served.h.teams.getMember(teamId, userId);
      return m?.status === 'active' ? [...m.roles].sort().join('+') : 'removed';
    };
    const events = async () =>
      (
        (await served.h.db('audit_events').where('team_id', teamId).orderBy('id')) as {
          action: string;
          target: string;
        }[]
      ).map((e) => `${e.action} ${e.target}`);
    return { teamId, token, as, put, del, roles, events };
  }

  const refused = (res: ApiResponse, status: 403 | 409, code = status === 403 ? 'forbidden' : 'last_billing_member') =>
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: { error: { code, message: expect.any(String) } },
    });

  it('an admin cannot give the billing role, to others or to themselves', async () => {
    const t = await paidTeam();
    const before = await t.events();
    refused(await t.put('ada', 'ada', ['member', 'admin', 'billing']), 403);
    refused(await t.put('ada', 'mia', ['member', 'billing']), 403);
    refused(await t.put('ada', 'newbie', ['billing']), 403);
    expect(await t.roles('ada')).toBe('admin+member');
    expect(await t.roles('mia')).toBe('member');
    expect(await served.h.teams.getMember(t.teamId, 'newbie')).toBeNull();
    // Nothing refused reached the audit trail.
    expect(await t.events()).toEqual(before);
    // Whoever holds Billing may give it: a Billing admin, or provisioning.
    expect((await t.put('abe', 'mia', ['member', 'billing'])).status).toBe(200);
    expect((await t.put('prov', 'bob', ['member', 'billing'])).status).toBe(200);
    expect(await t.roles('mia')).toBe('billing+member');
    expect(await t.roles('bob')).toBe('billing+member');
    // An admin may still grant what they hold.
    expect((await t.put('ada', 'newbie', ['member', 'admin'])).status).toBe(200);
  });

  it("an admin cannot change a Billing member's email or roles, remove them or revoke their token", async () => {
    const t = await paidTeam();
    refused(await t.put('ada', 'bea', ['billing'], 'attacker@evil.example'), 403);
    refused(await t.put('ada', 'bea', ['billing', 'member']), 403);
    refused(await t.put('ada', 'bea', ['member']), 403);
    refused(await t.put('ada', 'abe', ['admin']), 403);
    refused(await t.del('ada', 'bea'), 403);
    const beaToken = (await served.h.db('api_tokens').where({ team_id: t.teamId, user_id: 'bea' }).first()).token_id;
    refused(await t.as('ada')('DELETE', `/v1/tokens/${beaToken}`), 403);
    expect(await served.h.teams.getMember(t.teamId, 'bea')).toMatchObject({
      email: `bea@${t.teamId}.example`,
      roles: ['billing'],
      status: 'active',
    });
    expect((await t.as('bea')('GET', '/v1/me')).status).toBe(200);
    // Re-sending what is already there changes nothing and is not refused (retries of provisioning scripts).
    expect((await t.put('ada', 'bea', ['billing'])).status).toBe(200);
    // A Billing admin may do all of it.
    expect((await t.put('abe', 'bea', ['billing'], `bea2@${t.teamId}.example`)).status).toBe(200);
    expect((await t.as('abe')('DELETE', `/v1/tokens/${beaToken}`)).status).toBe(204);
    expect((await t.del('abe', 'bea')).status).toBe(204);
  });

  it('the last Billing member of a paid team can be neither demoted nor removed (409), by anyone', async () => {
    const t = await paidTeam();
    expect((await t.del('abe', 'bea')).status).toBe(204);
    // abe is the last Billing member now.
    refused(await t.put('abe', 'abe', ['admin']), 409);
    refused(await t.put('prov', 'abe', ['admin']), 409);
    refused(await t.del('abe', 'abe'), 409);
    refused(await t.del('prov', 'abe'), 409);
    expect(await t.roles('abe')).toBe('admin+billing');
    // Once someone else holds Billing, abe may go.
    expect((await t.put('abe', 'mia', ['billing'])).status).toBe(200);
    expect((await t.put('abe', 'abe', ['admin'])).status).toBe(200);
    refused(await t.del('prov', 'mia'), 409);

    // A free plan bills nothing: its last Billing member may go.
    const free = await paidTeam('free');
    expect((await free.del('prov', 'bea')).status).toBe(204);
    expect((await free.put('prov', 'abe', ['admin'])).status).toBe(200);
    expect(await free.roles('abe')).toBe('admin');
  });

  it('two Billing members demoted at once: exactly one of them is (member changes of a team are serialized)', async () => {
    for (let round = 0; round < 3; round++) {
      const t = await paidTeam();
      expect((await t.put('prov', 'abe', ['admin'])).status).toBe(200); // bea alone holds Billing
      expect((await t.put('prov', 'mia', ['billing'])).status).toBe(200); // bea and mia
      const [a, b] = await Promise.all([t.put('prov', 'bea', ['member']), t.del('prov', 'mia')]);
      const ok = [a, b].filter((r) => r.status === 200 || r.status === 204);
      expect(ok).toHaveLength(1);
      expect([a, b].filter((r) => r.status === 409)).toHaveLength(1);
      expect(await served.h.teams.countWithRole(t.teamId, 'billing')).toBe(1);
    }
  });

  it('role changes and removals are in the audit trail, with the actor and before/after', async () => {
    const t = await paidTeam();
    const adaTokenId = (await served.h.db('api_tokens').where({ team_id: t.teamId, user_id: 'ada' }).first()).token_id;
    expect((await t.put('ada', 'mia', ['member', 'admin'])).status).toBe(200);
    expect((await t.del('ada', 'bob')).status).toBe(204);
    const rows = await served.h.db('audit_events').where('team_id', t.teamId).orderBy('id');
    const changed = rows.find((r) => r.action === 'member.changed' && r.target === 'member:mia');
    expect(changed).toMatchObject({
      actor: adaTokenId,
      actor_user_id: 'ada',
      before: { email: `mia@${t.teamId}.example`, roles: ['member'] },
      after: { email: `mia@${t.teamId}.example`, roles: ['member', 'admin'] },
    });
    const removed = rows.find((r) => r.action === 'member.removed' && r.target === 'member:bob');
    expect(removed).toMatchObject({ actor: adaTokenId, before: { roles: ['member'] } });
    expect(removed.after.revokedTokens).toHaveLength(1);
    expect(rows.filter((r) => r.action === 'member.added').map((r) => r.actor)).toEqual(Array(5).fill('provisioning'));
  });
});

describe('token lifecycle across two API instances (spec §17)', () => {
  /** A second API on the same PostgreSQL that hears of changes by NOTIFY only (its version check is off). */
  let other: { app: FastifyInstance; url: string };
  beforeAll(async () => {
    other = await startApi(served.h, served.taskQueue, { auth: { versionCheckMs: 60_000 } });
  });
  afterAll(async () => {
    await other?.app.close();
  });

  /** Calls `probe` every 10 ms until it answers `status`; the time it took, from `since`. */
  /**
   * How long after `since` the instance first answered `status`, counted at the moment the answering request was
   * sent: the time a request spends in a busy machine's queues is not the instance's delay.
   */
  async function msUntil(status: number, probe: () => Promise<ApiResponse>, since: number, limitMs = 5_000) {
    for (;;) {
      const sentAt = Date.now();
      const res = await probe();
      if (res.status === status) return Math.max(0, sentAt - since);
      if (Date.now() - since > limitMs) throw new Error(`still ${res.status} after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function teamWithAdmin() {
    const teamId = uid('team');
    expect((await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 })).status).toBe(201);
    await addMember(teamId, 'bea', ['billing']);
    return {
      teamId,
      admin: await addMember(teamId, 'ada', ['admin']),
      member: await addMember(teamId, 'mo', ['member']),
    };
  }

  /** Both instances answered 200 with the token, so both hold it in their caches. */
  async function warm(path: string, token: string) {
    for (const base of [served.url, other.url]) {
      for (let i = 0; i < 3; i++) expect((await apiClient(base, token)('GET', path)).status).toBe(200);
    }
  }

  it('a token revoked on one instance is refused by the other within 1 s (member and service tokens)', async () => {
    const { teamId, member } = await teamWithAdmin();
    const agent = await prov()('POST', '/v1/tokens', { service: 'finance', teamId, label: 'ci' });
    const memberId = (await served.h.db('api_tokens').where({ team_id: teamId, user_id: 'mo' }).first()).token_id;
    for (const [tokenId, token, path] of [
      [memberId, member, '/v1/me'],
      [agent.body.tokenId, agent.body.token, `/v1/teams/${teamId}/members/mo/credits`],
    ] as const) {
      await warm(path, token);
      const revoked = await prov()('DELETE', `/v1/tokens/${tokenId}`);
      expect(revoked.status).toBe(204);
      const took = await msUntil(401, () => apiClient(other.url, token)('GET', path), Date.now());
      expect(took).toBeLessThan(1_000);
      const refused = await apiClient(other.url, token)('GET', path);
      expect(refused.body).toEqual({ error: { code: 'unauthorized', message: 'this token has been revoked' } });
      expect((await client(token)('GET', path)).status).toBe(401);
      // Revoking again changes nothing.
      expect((await prov()('DELETE', `/v1/tokens/${tokenId}`)).status).toBe(204);
    }
  });

  it('a removed member, and a demoted admin, lose their rights on the other instance within 1 s', async () => {
    const { teamId, admin, member } = await teamWithAdmin();
    await warm(`/v1/teams/${teamId}/usage`, admin);
    const demoted = await prov()('PUT', `/v1/teams/${teamId}/members/ada`, {
      email: `ada@${teamId}.example`,
      roles: ['member'],
    });
    expect(demoted.status).toBe(200);
    const usage = () => apiClient(other.url, admin)('GET', `/v1/teams/${teamId}/usage`);
    expect(await msUntil(403, usage, Date.now())).toBeLessThan(1_000);

    await warm('/v1/me', member);
    expect((await prov()('DELETE', `/v1/teams/${teamId}/members/mo`)).status).toBe(204);
    expect(await msUntil(401, () => apiClient(other.url, member)('GET', '/v1/me'), Date.now())).toBeLessThan(1_000);
  });

  it('a change whose notification never came is seen within 1 s by the version check', async () => {
    const { member } = await teamWithAdmin();
    await warm('/v1/me', member);
    // As if the NOTIFY was lost: the row and the version change, nothing is sent.
    await served.h.db.transaction(async (trx) => {
      await trx('api_tokens').where('token_hash', hashToken(member)).update({ revoked_at: trx.fn.now() });
      await trx('access_version').update({ version: trx.raw('version + 1') });
    });
    const since = Date.now();
    // The second instance has no version check: it still serves the token from its cache (what the notifications of
    // the tests above had to overcome), until the next notification shows it a gap in the versions.
    expect((await apiClient(other.url, member)('GET', '/v1/me')).status).toBe(200);
    // The first instance checks the version every 250 ms: it refuses the token within a second.
    expect(await msUntil(401, () => client(member)('GET', '/v1/me'), since)).toBeLessThan(1_000);
  });

  it('an expired token is refused (401), also by an instance that has it cached', async () => {
    const { teamId } = await teamWithAdmin();
    const issued = await prov()('POST', '/v1/tokens', { teamId, userId: 'mo', ttlDays: 1 });
    expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    const expiresAt = Date.now() + 3_000;
    await served.h
      .db('api_tokens')
      .where('token_id', issued.body.tokenId)
      .update({ expires_at: new Date(expiresAt) });
    await warm('/v1/me', issued.body.token);
    // Once its expiry has passed, the very first request is refused, cached or not.
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 20));
    for (const base of [served.url, other.url]) {
      const res = await apiClient(base, issued.body.token)('GET', '/v1/me');
      expect({ status: res.status, message: res.body.error?.message }).toEqual({
        status: 401,
        message: 'this token has expired',
      });
    }
  });

  it("lists a team's tokens to its admins: label, owner, created, last used, expiry, status; never the secret", async () => {
    const { teamId, admin, member } = await teamWithAdmin();
    const fin = await prov()('POST', '/v1/tokens', { service: 'finance', teamId, label: 'books' });
    await client(member)('GET', '/v1/me');
    const list = (query = '') => client(admin)('GET', `/v1/teams/${teamId}/tokens${query}`);
    const mo = await eventually(async () => {
      const tokens = (await list()).body.tokens as { owner: { userId?: string }; lastUsedAt: string | null }[];
      const found = tokens.find((tk) => tk.owner.userId === 'mo');
      return found?.lastUsedAt ? found : undefined;
    });
    expect(mo).toEqual({
      tokenId: expect.stringMatching(/^tok_/),
      label: null,
      kind: 'member',
      scope: 'team',
      teamId,
      owner: { userId: 'mo' },
      status: 'active',
      createdAt: expect.any(String),
      createdBy: 'provisioning',
      lastUsedAt: expect.any(String),
      expiresAt: expect.any(String),
      revokedAt: null,
    });
    expect((await prov()('DELETE', `/v1/tokens/${fin.body.tokenId}`)).status).toBe(204);
    const all = (await list()).body;
    expect(all.tokens.map((tk: { owner: object; status: string }) => [tk.owner, tk.status])).toEqual([
      [{ userId: 'bea' }, 'active'],
      [{ userId: 'ada' }, 'active'],
      [{ userId: 'mo' }, 'active'],
      [{ service: 'finance' }, 'revoked'],
    ]);
    expect(all.nextCursor).toBeNull();
    const text = JSON.stringify(all);
    for (const secret of [admin, member, fin.body.token]) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/aic_|token_?hash|[0-9a-f]{64}/i);
    // Pages of two, in the same order.
    const first = (await list('?limit=2')).body;
    const second = (await list(`?limit=2&cursor=${first.nextCursor}`)).body;
    expect([...first.tokens, ...second.tokens]).toEqual(all.tokens);
    expect(second.nextCursor).toBeNull();
    expectBadRequest(await list('?cursor=abc'));
  });
});

function expectBadRequest(res: ApiResponse) {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: 400, code: 'invalid_request' });
}
