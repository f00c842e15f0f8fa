/**
 * The access policy of spec §11 as one table: every route × every kind of caller, over real HTTP.
 *
 * Team A is the team every path names; `self` is the member the path names (mia, or a fresh member for
 * DELETE); team B is somebody else's team. A caller bound to another team gets 404 (the team's existence is
 * not even confirmed, exactly as for a team that does not exist), never a 2xx. Denied answers carry the
 * error body only, with nothing of team A in it.
 */
import { apiClient, PROVISIONING_TOKEN, serveApi, type ServedApi, type ApiResponse } from '../support/api';
import { createHarness, eventually, uid, type Harness } from '../support/harness';

let h: Harness;
let url: string;
let served: ServedApi | undefined;

beforeAll(async () => {
  h = await createHarness();
  served = await serveApi(h);
  url = served.url;
});

afterAll(async () => {
  await served?.stop();
  await h?.close();
});

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
  n: number;
}

interface Route {
  method: string;
  path: (c: Ctx) => string;
  body?: (c: Ctx) => unknown;
  /** A fresh member to act on (for DELETE): `self` then means that member's own token. */
  freshMember?: boolean;
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
  'POST consumptions':      [401,  401, 401,     403,  OK,    403, OK,     403,  404,    404,  OK,   403,   403,   403,     404,    404],
  'GET credits':            [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  OK,   403,   OK,    OK,      404,    404],
  'PUT payg':               [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   403,   OK,      404,    404],
  'POST credit-purchases':  [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   403,   OK,      404,    404],
  'GET usage':              [401,  401, 401,     403,  403,   403, 403,    403,  404,    404,  403,  403,   OK,    OK,      404,    404],
  'GET invoices':           [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET invoices/{id}':      [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET invoices/preview':   [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   OK,      404,    404],
  'GET ledger':             [401,  401, 401,     403,  403,   OK,  403,    OK,   404,    404,  403,  403,   403,   403,     404,    404],
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

const prov = () => apiClient(url, PROVISIONING_TOKEN);

async function issue(body: Record<string, string>): Promise<string> {
  const res = await prov()('POST', '/v1/tokens', body);
  expect(res.status).toBe(201);
  return res.body.token as string;
}

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
  const bought = await apiClient(url, tokens.billing)('POST', `/v1/teams/${teamA}/members/mia/credit-purchases`, {
    purchaseId: 'setup',
    credits: 1,
  });
  expect(bought.status).toBe(201);
  invoiceId = await eventually(
    async () => (await h.db('invoices').where({ team_id: teamA }).first('id'))?.id as string | undefined,
    20_000,
    "team A's open invoice",
  ).then(String);

  secretsOfA = [
    ...['mia', 'olly', 'ada', 'bea', 'rex'].map((u) => `${u}@${teamA}.example`),
    ...Object.values(tokens).filter((tk) => tk.startsWith('aic_') && tk !== tokens.bad),
    PROVISIONING_TOKEN,
  ];
});

/** What a caller's request looks like; `self` on a fresh-member route is that member's own token. */
async function call(route: Route, caller: Caller): Promise<{ res: ApiResponse; ctx: Ctx }> {
  const ctx: Ctx = { teamA, userId: 'mia', invoiceId, n: ++n };
  let token: string | undefined = caller === 'none' ? undefined : tokens[caller];
  if (route.freshMember) {
    ctx.userId = `fresh-${ctx.n}`;
    const own = await addMember(teamA, ctx.userId, ['member']);
    if (caller === 'self') token = own;
  }
  const res = await apiClient(url, token)(route.method, route.path(ctx), route.body?.(ctx));
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
      for (const field of ['balance', 'allowance', 'remaining', 'entries', 'invoices', 'members', 'alerts']) {
        expect({ where, leaks: text.includes(`"${field}"`) }).toEqual({ where, leaks: false });
      }
      // A team-A path answered 404 to a caller of another team reads exactly like a team that does not exist.
      if (res.status === 404) {
        const ghost = uid('team');
        const again = await apiClient(url, caller === 'none' ? undefined : tokens[caller])(
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
      ((await h.db('ledger_entries').where({ team_id: teamA, user_id: 'mia' })) as { kind: string }[])
        .map((r) => r.kind)
        .sort();
    await eventually(async () => ((await kinds()).length >= expected.length ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await kinds()).toEqual(expected);
    // mia is still a plain member; the fresh members named by DELETE are gone only where it was allowed.
    expect(await h.teams.getMember(teamA, 'mia')).toMatchObject({ roles: ['member'], status: 'active' });
    const fresh = (await h.teams.listMembers(teamA, { includeRemoved: true })).filter((mm) =>
      mm.userId.startsWith('fresh-'),
    );
    expect(fresh.filter((mm) => mm.status === 'removed')).toHaveLength(
      MATRIX['DELETE member'].filter((o) => o === OK).length,
    );
    // No team was created by anyone but provisioning, and no member of team B changed.
    const [{ n: created }] = await h.db('teams').where('team_id', 'like', `${RUN}-%`).count({ n: '*' });
    expect(Number(created)).toBe(allowed('POST /v1/teams'));
    expect((await h.teams.listMembers(teamB)).map((mm) => `${mm.userId}:${mm.roles.join('+')}`)).toEqual([
      'adam:admin',
      'bill:billing',
    ]);
  });
});
