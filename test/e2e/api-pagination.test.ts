/**
 * Lists that grow are read a page at a time with `?limit=&cursor=` and a `nextCursor`, and no list is silently cut
 * (spec §17). The ledger here has more than 10,000 rows (where the route used to stop without a word), written with
 * one SQL statement; a walk to the end sees every row once, also while rows are being appended.
 */
import { TokenStore } from '../../src/db/token-store';
import { useServedApi } from '../support/api';
import { uid } from '../support/harness';

// No worker: every list is read from PostgreSQL.
const served = useServedApi({ worker: false });
let teamId: string;
let finance: string;
let member: string;

const PERIODS = ['2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z'];
const USERS = ['ann', 'bob', 'cid'];
const ROWS = 10_537;

/** Appends `count` ledger rows to `team`, spread over USERS and PERIODS, with one INSERT. */
async function insertLedgerRows(team: string, count: number, tag: string): Promise<void> {
  await served.h.db.raw(
    `insert into ledger_entries (entry_key, team_id, user_id, period_start, period_end, kind, millicredits,
       request_id, action, workflow_id, run_id, occurred_at)
     select ? || ':' || i, ?, (?::text[])[1 + i % 3], (?::timestamptz[])[1 + (i / 7) % 2],
       (?::timestamptz[])[1 + (i / 7) % 2] + interval '1 month', 'consume', 1000 + i, 'r-' || i, 'chat',
       'ai-credits/member/' || ?, 'run', now()
     from generate_series(1, ?) as i`,
    [`${team}:${tag}`, team, USERS, PERIODS, PERIODS, team, count],
  );
}

async function ledgerIds(filter: { userId?: string; periodStart?: string } = {}): Promise<number[]> {
  const q = served.h.db('ledger_entries').where('team_id', teamId).orderBy('id').select('id');
  if (filter.userId) q.andWhere('user_id', filter.userId);
  if (filter.periodStart) q.andWhere('period_start', new Date(filter.periodStart));
  return (await q).map((r: { id: number }) => r.id);
}

/** Follows nextCursor from the first page to the last; the ids of every page, in order. */
async function walk(path: string, token: string, list: string, onPage?: (n: number) => Promise<void>) {
  const ids: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await served.client(token)('GET', cursor === null ? path : `${path}${sep}cursor=${cursor}`);
    expect(res.status).toBe(200);
    ids.push(...(res.body[list] as { id: number }[]).map((e) => Number(e.id)));
    cursor = res.body.nextCursor;
    expect(cursor === null || /^[0-9]+$/.test(cursor)).toBe(true);
    pages++;
    await onPage?.(pages);
  } while (cursor !== null);
  return { ids, pages };
}

beforeAll(async () => {
  const { h } = served;
  teamId = uid('team');
  const other = uid('team');
  for (const t of [teamId, other]) {
    await h.teams.createTeam({
      teamId: t,
      plan: 'basic',
      billingAnchorDay: 1,
      paygThresholdMinor: null,
      currency: 'USD',
    });
  }
  await h.teams.upsertMember({ teamId, userId: 'ann', email: 'ann@example.com', roles: ['member'] });
  const tokens = new TokenStore(h.db);
  finance = await tokens.issue({ kind: 'service', service: 'finance', teamId });
  member = await tokens.issue({ kind: 'member', teamId, userId: 'ann' });
  // Another team's rows interleave with this team's ids: they must never show.
  await insertLedgerRows(other, 1_000, 'a');
  await insertLedgerRows(teamId, ROWS, 'a');
  await insertLedgerRows(other, 1_000, 'b');
}, 120_000);

describe('ledger pages', () => {
  it(`walks ${ROWS.toLocaleString('en')} rows to the end: every row once, in id order, none of another team`, async () => {
    const expected = await ledgerIds();
    expect(expected).toHaveLength(ROWS);
    const { ids, pages } = await walk(`/v1/teams/${teamId}/ledger`, finance, 'entries');
    expect(pages).toBe(Math.ceil(ROWS / 1_000));
    expect(ids).toEqual(expected);
    const big = await walk(`/v1/teams/${teamId}/ledger?limit=5000`, finance, 'entries');
    expect(big.pages).toBe(3);
    expect(big.ids).toEqual(expected);
  });

  it('filtered by member and period, in pages of 700', async () => {
    const filters: Record<string, string>[] = [
      { userId: 'bob' },
      { periodStart: PERIODS[1] },
      { userId: 'cid', periodStart: PERIODS[0] },
    ];
    for (const filter of filters) {
      const query = new URLSearchParams({ ...filter, limit: '700' }).toString();
      const { ids } = await walk(`/v1/teams/${teamId}/ledger?${query}`, finance, 'entries');
      const expected = await ledgerIds(filter);
      expect(expected.length).toBeGreaterThan(1_000);
      expect(ids).toEqual(expected);
    }
  });

  it('a walk while rows are appended sees every row once, those appended behind it too', async () => {
    const before = await ledgerIds();
    const { ids } = await walk(`/v1/teams/${teamId}/ledger?limit=2000`, finance, 'entries', async (page) => {
      if (page <= 3) await insertLedgerRows(teamId, 150, `during-${page}`);
    });
    const after = await ledgerIds();
    expect(after.length).toBe(before.length + 450);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(after);
  });

  it('refuses a malformed cursor or page size with a 400', async () => {
    for (const query of ['cursor=abc', 'cursor=-1', 'cursor=1e3', 'limit=0', 'limit=5001', 'limit=ten', 'limit=']) {
      const res = await served.client(finance)('GET', `/v1/teams/${teamId}/ledger?${query}`);
      expect({ query, status: res.status, code: res.body?.error?.code }).toEqual({
        query,
        status: 400,
        code: 'invalid_request',
      });
    }
  });
});

describe('other lists that grow', () => {
  it('invoices: newest first, three at a time', async () => {
    await served.h.db('invoices').insert(
      Array.from({ length: 8 }, (_, i) => ({
        team_id: teamId,
        sequence: i + 1,
        status: i === 7 ? 'open' : 'finalized',
        currency: 'USD',
        total_minor: i * 100,
        finalize_key: i === 7 ? null : `${teamId}:${i}`,
        finalized_at: i === 7 ? null : new Date(),
      })),
    );
    const pages: number[][] = [];
    let path = `/v1/teams/${teamId}/invoices?limit=3`;
    for (;;) {
      const res = await served.client(finance)('GET', path);
      expect(res.status).toBe(200);
      pages.push(res.body.invoices.map((i: { sequence: number }) => i.sequence));
      if (res.body.nextCursor === null) break;
      path = `/v1/teams/${teamId}/invoices?limit=3&cursor=${res.body.nextCursor}`;
    }
    expect(pages).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1],
    ]);
  });

  it("alerts: the member's own, newest first, every one once", async () => {
    await served.h.db('alerts').insert(
      Array.from({ length: 230 }, (_, i) => ({
        alert_key: `${teamId}:ann:${i}`,
        team_id: teamId,
        user_id: 'ann',
        kind: 'member_75',
        message: `alert ${i}`,
      })),
    );
    const expected = (
      await served.h.db('alerts').where({ team_id: teamId, user_id: 'ann' }).orderBy('id', 'desc').select('id')
    ).map((r: { id: number }) => r.id);
    const { ids, pages } = await walk('/v1/me/alerts', member, 'alerts');
    expect(pages).toBe(3);
    expect(ids).toEqual(expected);
  });
});
