/**
 * The team usage read at 1,000 members (spec §10): one PostgreSQL query a page, every member once across the
 * pages, a search that finds members by id or email, and figures equal to the usage rows.
 */
import { periodContaining } from '../../workflows/domain/periods';
import { useServedApi } from '../support/api';
import { uid } from '../support/harness';

const served = useServedApi({ worker: false }); // no worker: the route reads PostgreSQL only

it('pages through a 1,000-member team with every member once, and finds members by id or email', async () => {
  const { h } = served;
  const teamId = uid('big');
  await h.teams.createTeam({ teamId, plan: 'basic', billingAnchorDay: 1, paygThresholdMinor: null, currency: 'USD' });
  const period = periodContaining(Date.now(), 1);
  const ids = Array.from({ length: 1_000 }, (_, i) => `u${String(i).padStart(4, '0')}`);
  await h.db('members').insert(
    ids.map((userId, i) => ({
      team_id: teamId,
      user_id: userId,
      email: `${userId}@${i % 10 === 0 ? 'tenth' : 'big'}.example`,
      roles: i === 0 ? ['admin', 'billing'] : ['member'],
    })),
  );
  // Usage rows for all but the last 10 (members who have not consumed yet show a fresh balance).
  await h.db('member_usage').insert(
    ids.slice(0, 990).map((userId, i) => ({
      team_id: teamId,
      user_id: userId,
      period_start: new Date(period.start),
      period_end: new Date(period.end),
      allowance: 400_000,
      used: i * 100,
      plan_id: 'basic',
      currency: 'USD',
      payg_enabled: true,
      payg_available: true,
    })),
  );
  const issued = await served.prov()('POST', '/v1/tokens', { teamId, userId: 'u0000' });
  const admin = served.client(issued.body.token as string);

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await admin('GET', `/v1/teams/${teamId}/usage?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    expect(res.body.members.length).toBeLessThanOrEqual(100);
    for (const m of res.body.members as { userId: string; balance: { used: string; remaining: string } }[]) {
      seen.push(m.userId);
      const i = Number(m.userId.slice(1));
      expect(m.balance.used).toBe(i < 990 ? String((i * 100) / 1000) : '0');
    }
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor);
  expect(pages).toBe(10);
  expect(seen).toEqual(ids);

  const byId = await admin('GET', `/v1/teams/${teamId}/usage?q=u099`);
  expect(byId.body.members.map((m: { userId: string }) => m.userId)).toEqual(ids.filter((u) => u.includes('u099')));
  const byEmail = await admin('GET', `/v1/teams/${teamId}/usage?q=tenth&limit=500`);
  expect(byEmail.body.members).toHaveLength(100);
  expect(byEmail.body.nextCursor).toBeNull();
  // A search that is not a LIKE pattern: % and _ are matched as themselves.
  expect((await admin('GET', `/v1/teams/${teamId}/usage?q=%25`)).body.members).toEqual([]);
});
