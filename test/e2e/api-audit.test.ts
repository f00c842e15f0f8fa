/**
 * The audit trail (spec §15): every provisioning and admin action on members and tokens is an event with its actor
 * (a token id, never a token; or provisioning), time, target, before and after, written in the transaction of the
 * change, and served oldest first (or newest first when asked), a page at a time, to the team's admins, Billing and
 * finance.
 */
import { recordAudit } from '../../src/db/audit-store';
import { PROVISIONING_TOKEN, useServedApi } from '../support/api';
import { uid } from '../support/harness';

const served = useServedApi();
const { client, prov } = served;

async function ok<T = Record<string, unknown>>(promise: Promise<{ status: number; body: T }>, status = 200) {
  const res = await promise;
  expect(res.status).toBe(status);
  return res.body;
}

interface Event {
  id: number;
  at: string;
  actor: string;
  actorUserId: string | null;
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit trail', () => {
  let teamId: string;
  let secrets: string[];
  let ids: Record<string, string>;
  let billing: string;

  beforeAll(async () => {
    teamId = uid('team');
    await ok(prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 }), 201);
    const member = (userId: string, roles: string[]) =>
      ok(prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@a.example`, roles }));
    await member('ada', ['admin']);
    await member('bea', ['billing']);
    const ada = await ok<{ token: string; tokenId: string }>(
      prov()('POST', '/v1/tokens', { teamId, userId: 'ada' }),
      201,
    );
    const bea = await ok<{ token: string; tokenId: string }>(
      prov()('POST', '/v1/tokens', { teamId, userId: 'bea' }),
      201,
    );
    const fin = await ok<{ token: string; tokenId: string }>(
      prov()('POST', '/v1/tokens', { service: 'finance', teamId, label: 'books' }),
      201,
    );
    // A global token concerns no team: it is in no team's trail.
    const global = await ok<{ token: string }>(
      prov()('POST', '/v1/tokens', { service: 'agent', scope: 'global' }),
      201,
    );
    const admin = client(ada.token);
    await ok(admin('PUT', `/v1/teams/${teamId}/members/mo`, { email: 'mo@a.example', roles: ['member'] }));
    await ok(admin('PUT', `/v1/teams/${teamId}/members/mo`, { email: 'mo@b.example', roles: ['member'] }));
    // Sent again unchanged: no event.
    await ok(admin('PUT', `/v1/teams/${teamId}/members/mo`, { email: 'mo@b.example', roles: ['member'] }));
    const mo = await ok<{ token: string; tokenId: string }>(
      prov()('POST', '/v1/tokens', { teamId, userId: 'mo' }),
      201,
    );
    await ok(admin('DELETE', `/v1/tokens/${mo.tokenId}`), 204);
    await ok(admin('DELETE', `/v1/tokens/${mo.tokenId}`), 204); // already revoked: no second event
    await ok(admin('DELETE', `/v1/teams/${teamId}/members/mo`), 204);
    // Refused changes leave no event.
    expect(
      (await admin('PUT', `/v1/teams/${teamId}/members/ada`, { email: 'x@a.example', roles: ['billing'] })).status,
    ).toBe(403);
    secrets = [ada.token, bea.token, fin.token, global.token, mo.token, PROVISIONING_TOKEN];
    ids = { ada: ada.tokenId, bea: bea.tokenId, fin: fin.tokenId, mo: mo.tokenId };
    billing = bea.token;
  });

  it('records who did what, oldest first, with before and after', async () => {
    const body = await ok<{ teamId: string; events: Event[]; nextCursor: string | null }>(
      client(billing)('GET', `/v1/teams/${teamId}/audit`),
    );
    expect(body.nextCursor).toBeNull();
    const summary = body.events.map(
      (e) => `${e.actor === 'provisioning' ? 'prov' : e.actorUserId} ${e.action} ${e.target}`,
    );
    expect(summary).toEqual([
      `prov team.created team:${teamId}`,
      'prov member.added member:ada',
      'prov member.added member:bea',
      `prov token.issued token:${ids.ada}`,
      `prov token.issued token:${ids.bea}`,
      `prov token.issued token:${ids.fin}`,
      'ada member.added member:mo',
      'ada member.changed member:mo',
      `prov token.issued token:${ids.mo}`,
      `ada token.revoked token:${ids.mo}`,
      'ada member.removed member:mo',
    ]);
    const byAda = body.events.filter((e) => e.actorUserId === 'ada');
    expect(new Set(byAda.map((e) => e.actor))).toEqual(new Set([ids.ada]));
    const changed = body.events.find((e) => e.action === 'member.changed')!;
    expect(changed.before).toEqual({ email: 'mo@a.example', roles: ['member'] });
    expect(changed.after).toEqual({ email: 'mo@b.example', roles: ['member'] });
    const revoked = body.events.find((e) => e.action === 'token.revoked')!;
    expect(revoked.before).toMatchObject({ tokenId: ids.mo, status: 'active', owner: { userId: 'mo' } });
    expect(revoked.after).toMatchObject({ tokenId: ids.mo, status: 'revoked', revokedAt: expect.any(String) });
    const issued = body.events.find((e) => e.target === `token:${ids.fin}`)!;
    expect(issued.after).toMatchObject({
      label: 'books',
      owner: { service: 'finance' },
      expiresAt: expect.any(String),
    });
    // Times are in order and recent.
    const times = body.events.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Date.now() - times[0]).toBeLessThan(120_000);
    // Never a token, nor its hash.
    const text = JSON.stringify(body);
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    expect(text).not.toMatch(/aic_|[0-9a-f]{64}/);
  });

  it('pages with limit and cursor; after= takes an event id or an instant', async () => {
    const get = (query: string) =>
      ok<{ events: Event[]; nextCursor: string | null }>(client(billing)('GET', `/v1/teams/${teamId}/audit${query}`));
    const all = (await get('')).events;
    const walked: Event[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Event[]; nextCursor: string | null } = await get(
        `?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.events.length).toBeLessThanOrEqual(3);
      walked.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(all);
    expect((await get(`?after=${all[5].id}`)).events).toEqual(all.slice(6));
    expect((await get(`?after=${encodeURIComponent(all[0].at)}`)).events.length).toBe(all.length);
    expect((await get(`?after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).events).toEqual([]);
    for (const query of ['?after=1&cursor=2', '?after=yesterday', '?cursor=x', '?limit=0', '?limit=501', '?since=1']) {
      const res = await client(billing)('GET', `/v1/teams/${teamId}/audit${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });

  it('order=newest reads the trail from the latest event back, a page at a time, after= bounding it', async () => {
    const get = (query: string) =>
      ok<{ events: Event[]; nextCursor: string | null }>(client(billing)('GET', `/v1/teams/${teamId}/audit${query}`));
    const all = (await get('')).events;
    const newest = [...all].reverse();
    const walked: Event[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Event[]; nextCursor: string | null } = await get(
        `?order=newest&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.events.length).toBeLessThanOrEqual(4);
      walked.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(newest);
    // after= is the lower bound, the cursor where the last page ended: both at once.
    const first = await get(`?order=newest&limit=2&after=${all[5].id}`);
    expect(first.events).toEqual(newest.slice(0, 2));
    const rest = await get(`?order=newest&after=${all[5].id}&cursor=${first.nextCursor}`);
    expect(rest).toEqual({ events: all.slice(6, -2).reverse(), nextCursor: null, teamId });
    expect((await client(billing)('GET', `/v1/teams/${teamId}/audit?order=latest`)).status).toBe(400);
  });

  it("shows nothing of another team's trail", async () => {
    const other = uid('team');
    await ok(prov()('POST', '/v1/teams', { teamId: other, plan: 'basic', billingAnchorDay: 1 }), 201);
    const events = (await ok<{ events: Event[] }>(client(billing)('GET', `/v1/teams/${teamId}/audit`))).events;
    expect(events.some((e) => e.target.includes(other))).toBe(false);
    expect((await client(billing)('GET', `/v1/teams/${other}/audit`)).status).toBe(404);
  });
});

describe('recordAudit for other code', () => {
  it('commits with the change it records, or not at all; an eventKey makes a retried write a no-op', async () => {
    const teamId = uid('team');
    const count = async () =>
      Number((await served.h.db('audit_events').where('team_id', teamId).count({ n: '*' }))[0].n);
    await expect(
      served.h.db.transaction(async (trx) => {
        await recordAudit(trx, { teamId, actor: 'system', action: 'plan.changed', target: `team:${teamId}` });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await count()).toBe(0);
    for (let i = 0; i < 3; i++) {
      await served.h.db.transaction((trx) =>
        recordAudit(trx, {
          teamId,
          actor: 'system',
          action: 'credits.purchased',
          target: 'member:ann',
          after: { purchaseId: 'p1', credits: '10' },
          eventKey: `${teamId}:purchase:p1`,
        }),
      );
    }
    expect(await count()).toBe(1);
    const [row] = await served.h.db('audit_events').where('team_id', teamId);
    expect(row).toMatchObject({ actor: 'system', before: null, after: { purchaseId: 'p1', credits: '10' } });
  });
});
