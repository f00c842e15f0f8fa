/**
 * Per-token rate limits (spec §17): over its limit a token gets 429 with Retry-After, whatever the route and
 * whether or not it may call it; another token from the same address is not slowed; agent tokens have their own,
 * higher limit; the public routes have none. Small limits here (the defaults are 600 and 6,000 a minute).
 */
import { TokenStore } from '../../src/db/token-store';
import { PROVISIONING_TOKEN, useServedApi, type ApiResponse } from '../support/api';
import { uid } from '../support/harness';

const LIMIT = 5;
const AGENT_LIMIT = 12;

// No worker: the routes used here read PostgreSQL only.
const served = useServedApi({ worker: false, rateLimits: { perMinute: LIMIT, agentPerMinute: AGENT_LIMIT } });
let teamId: string;
const tokens = {} as Record<'ana' | 'ben' | 'agent' | 'otherAgent', string>;

beforeAll(async () => {
  const { h } = served;
  teamId = uid('team');
  await h.teams.createTeam({ teamId, plan: 'basic', billingAnchorDay: 1, paygThresholdMinor: null, currency: 'USD' });
  const store = new TokenStore(h.db);
  for (const userId of ['ana', 'ben'] as const) {
    await h.teams.upsertMember({ teamId, userId, email: `${userId}@example.com`, roles: ['member'] });
    tokens[userId] = await store.issue({ kind: 'member', teamId, userId });
  }
  tokens.agent = await store.issue({ kind: 'service', service: 'agent', teamId });
  tokens.otherAgent = await store.issue({ kind: 'service', service: 'agent', teamId });
});

const get = (token: string | undefined, path = '/v1/me') => served.client(token)('GET', path);

function expectLimited(res: ApiResponse) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 429,
    body: { error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) } },
  });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('rate limits per token', () => {
  it('a member token gets its limit, then 429 with Retry-After; another token from the same address does not', async () => {
    for (let i = 1; i <= LIMIT; i++) {
      const res = await get(tokens.ana);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - i));
    }
    expectLimited(await get(tokens.ana));
    expectLimited(await get(tokens.ana, `/v1/teams/${teamId}/usage`));
    // Same address, same route, another token: untouched.
    for (let i = 0; i < LIMIT; i++) expect((await get(tokens.ben)).status).toBe(200);
    expectLimited(await get(tokens.ben));
  });

  it('agent tokens have their own, higher limit; requests they may not make count too', async () => {
    // An agent may not read /v1/me (403), but every authenticated request counts against its token.
    for (let i = 0; i < AGENT_LIMIT; i++) expect((await get(tokens.agent)).status).toBe(403);
    expectLimited(await get(tokens.agent));
    expect((await get(tokens.otherAgent)).status).toBe(403);
  });

  it('provisioning is limited like any token; the public routes and unauthenticated requests are not', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await get(PROVISIONING_TOKEN, '/v1/teams/x/tokens')).status).toBe(404);
    expectLimited(await get(PROVISIONING_TOKEN, '/v1/teams/x/tokens'));
    for (let i = 0; i < 3 * LIMIT; i++) {
      expect((await get(undefined, '/openapi.json')).status).toBe(200);
      expect((await get(undefined, '/dashboard')).status).toBe(200);
      expect((await get(undefined)).status).toBe(401);
      expect((await get('aic_unknown')).status).toBe(401);
    }
  });
});
