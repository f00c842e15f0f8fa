/**
 * The dashboard's data over real HTTP: usage per day of the current period for a member and for the team (numbers
 * equal to the ledger, PAYG money rounded so a member's days add up to the invoice's amount, who may read them per
 * spec §11), and the dashboard's static files (content types, caching, no way out of the folder).
 */
import { request } from 'node:http';
import { paygChargeMinor } from '../../workflows/domain/money';
import { periodContaining } from '../../workflows/domain/periods';
import { PROVISIONING_TOKEN, useServedApi } from '../support/api';
import { uid } from '../support/harness';

const served = useServedApi();
const { client, prov, token: issue } = served;

const DAY_MS = 86_400_000;
/** The basic plan's PAYG rate (config/plans.json): $0.04 a credit. */
const BASIC_RATE = 40_000;

/** A basic team whose current period began at least 8 days ago, so the days can be told apart. */
async function team(members: Record<string, string[]>, paygThresholdMinor?: number) {
  const teamId = uid('team');
  const billingAnchorDay = Math.min(28, new Date(Date.now() - 8 * DAY_MS).getUTCDate());
  const created = await prov()('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay, paygThresholdMinor });
  expect(created.status).toBe(201);
  const tokens: Record<string, string> = {};
  for (const [userId, roles] of Object.entries(members)) {
    const put = await prov()('PUT', `/v1/teams/${teamId}/members/${userId}`, { email: `${userId}@x.example`, roles });
    expect(put.status).toBe(200);
    tokens[userId] = await issue({ teamId, userId });
  }
  const period = periodContaining(Date.now(), billingAnchorDay);
  return { teamId, tokens, period, agent: client(await issue({ service: 'agent', teamId })) };
}

/** Moves a consumption's ledger rows `days` back: the period gets a history (nothing but these charts reads it). */
async function backdate(teamId: string, requestId: string, days: number) {
  const moved = await served.h
    .db('ledger_entries')
    .where({ team_id: teamId, request_id: requestId })
    .update({ occurred_at: served.h.db.raw(`occurred_at - make_interval(days => ?)`, [days]) });
  expect(moved).toBeGreaterThan(0);
}

/** What the days must say, straight from the ledger: per UTC day, credits used, PAYG credits and PAYG money. */
async function expectedDays(teamId: string, periodStart: number, userId?: string) {
  const q = served.h.db('ledger_entries').where({ team_id: teamId, period_start: new Date(periodStart) });
  if (userId) q.andWhere({ user_id: userId });
  const rows: { user_id: string; kind: string; millicredits: number; occurred_at: Date }[] = await q.select(
    'user_id',
    'kind',
    'millicredits',
    'occurred_at',
  );
  const days = new Map<string, { used: number; payg: number; chargeMinor: number }>();
  const day = (d: string) => days.get(d) ?? days.set(d, { used: 0, payg: 0, chargeMinor: 0 }).get(d)!;
  const paygByMember = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const d = r.occurred_at.toISOString().slice(0, 10);
    if (r.kind === 'consume') day(d).used += r.millicredits;
    if (r.kind === 'payg') {
      day(d).payg += r.millicredits;
      const m = paygByMember.get(r.user_id) ?? paygByMember.set(r.user_id, new Map()).get(r.user_id)!;
      m.set(d, (m.get(d) ?? 0) + r.millicredits);
    }
  }
  // Each member's day: the invoice's rounding of their PAYG to date, less that of the day before.
  for (const perDay of paygByMember.values()) {
    let toDate = 0;
    for (const d of [...perDay.keys()].sort()) {
      const before = paygChargeMinor(toDate, BASIC_RATE);
      toDate += perDay.get(d)!;
      day(d).chargeMinor += paygChargeMinor(toDate, BASIC_RATE) - before;
    }
  }
  return days;
}

const credits = (milli: number) => {
  const whole = Math.floor(milli / 1000);
  const frac = String(milli % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
};

interface Day {
  date: string;
  used: string;
  paygCredits: string;
  paygCharge: { amountMinor: number; currency: string };
}

function expectDaysMatch(
  answer: { days: Day[] },
  expected: Map<string, { used: number; payg: number; chargeMinor: number }>,
) {
  const { days } = answer;
  for (const d of days) {
    const e = expected.get(d.date) ?? { used: 0, payg: 0, chargeMinor: 0 };
    expect(d).toEqual({
      date: d.date,
      used: credits(e.used),
      paygCredits: credits(e.payg),
      paygCharge: { amountMinor: e.chargeMinor, currency: 'USD' },
    });
  }
  // Nothing in the ledger falls outside the days answered.
  for (const date of expected.keys()) expect(days.map((d) => d.date)).toContain(date);
}

describe('usage per day', () => {
  it("a member's and the team's days equal the ledger; PAYG money adds up to the invoice's rounding", async () => {
    const { teamId, tokens, period, agent } = await team(
      { mia: ['member'], ben: ['member'], ada: ['admin'], bea: ['billing'], olly: ['member'] },
      300,
    );
    const consume = async (userId: string, amount: string, daysBack: number) => {
      const requestId = uid('req');
      const res = await agent('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
        requestId,
        action: 'chat',
        credits: amount,
      });
      expect(res.status).toBe(200);
      if (daysBack > 0) await backdate(teamId, requestId, daysBack);
      return res.body;
    };
    // mia: her 400 credits over three days, then PAYG of 0.125 credits ($0.005) on two days: rounded day by day
    // that would be 1 + 1 cents, but the invoice charges round($0.01) = 1 cent for the period.
    await consume('mia', '150', 5);
    await consume('mia', '120.5', 3);
    await consume('mia', '129.5', 2);
    expect((await consume('mia', '0.125', 2)).decision).toBe('allowed_payg');
    expect((await consume('mia', '0.125', 0)).decision).toBe('allowed_payg');
    // ben the same PAYG on the same days: the team's days are the sum of each member's rounding (2 cents, then 0),
    // not a rounding of the team's sum (1, then 0).
    await consume('ben', '200', 4);
    await consume('ben', '200', 4);
    await consume('ben', '0.125', 2);
    await consume('ben', '0.125', 0);
    await consume('ada', '12.345', 1);
    await consume('ada', '0.005', 0);

    const mia = await client(tokens.mia)('GET', `/v1/teams/${teamId}/members/mia/usage/daily`);
    expect(mia.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const firstDay = new Date(period.start).toISOString().slice(0, 10);
    expect(mia.body).toMatchObject({
      teamId,
      userId: 'mia',
      periodStart: new Date(period.start).toISOString(),
      periodEnd: new Date(period.end).toISOString(),
      paygRateMicrosPerCredit: BASIC_RATE,
      total: { used: '400', paygCredits: '0.25', paygCharge: { amountMinor: 1, currency: 'USD' } },
    });
    // Every day from the period's first to today, in order, days without usage included.
    const dates = (mia.body.days as Day[]).map((d) => d.date);
    expect(dates[0]).toBe(firstDay);
    expect(dates[dates.length - 1]).toBe(today);
    expect(dates.length).toBe(Math.round((Date.parse(today) - Date.parse(firstDay)) / DAY_MS) + 1);
    expectDaysMatch(mia.body, await expectedDays(teamId, period.start, 'mia'));
    const miaDays = mia.body.days as Day[];
    const charges = miaDays.filter((d) => d.paygCharge.amountMinor > 0 || d.paygCredits !== '0');
    expect(charges.map((d) => [d.paygCredits, d.paygCharge.amountMinor])).toEqual([
      ['0.125', 1],
      ['0.125', 0],
    ]);

    // The totals are the member's balance (the usage row), and the PAYG money is what the invoice will charge.
    const balance = (await client(tokens.bea)('GET', `/v1/teams/${teamId}/members/mia/credits`)).body.balance;
    expect(mia.body.total).toEqual({
      used: balance.used,
      paygCredits: balance.paygCredits,
      paygCharge: balance.paygCharge,
    });
    expect(balance.paygCharge.amountMinor).toBe(paygChargeMinor(250, BASIC_RATE));

    // The team: the sum of its members' days, against its threshold; no cap (spec §15 is not there yet).
    const teamDaily = await client(tokens.ada)('GET', `/v1/teams/${teamId}/usage/daily`);
    expect(teamDaily.status).toBe(200);
    expect(teamDaily.body).toMatchObject({
      teamId,
      periodStart: new Date(period.start).toISOString(),
      paygThreshold: { amountMinor: 300, currency: 'USD' },
      paygCap: null,
      total: { used: '812.35', paygCredits: '0.5', paygCharge: { amountMinor: 2, currency: 'USD' } },
    });
    expect((teamDaily.body.days as Day[]).map((d) => d.date)).toEqual(dates);
    expectDaysMatch(teamDaily.body, await expectedDays(teamId, period.start));
    const teamCharges = (teamDaily.body.days as Day[]).filter((d) => d.paygCredits !== '0');
    expect(teamCharges.map((d) => [d.paygCredits, d.paygCharge.amountMinor])).toEqual([
      ['0.25', 2],
      ['0.25', 0],
    ]);

    // A member with no usage: every day zero.
    const olly = await client(tokens.olly)('GET', `/v1/teams/${teamId}/members/olly/usage/daily`);
    expect(olly.status).toBe(200);
    expect(olly.body.total).toEqual({ used: '0', paygCredits: '0', paygCharge: { amountMinor: 0, currency: 'USD' } });
    expect((olly.body.days as Day[]).every((d) => d.used === '0' && d.paygCredits === '0')).toBe(true);
  });

  it('answers the callers spec §11 names, 404 for another team, 401 without a token', async () => {
    const a = await team({ mia: ['member'], olly: ['member'], ada: ['admin'], bea: ['billing'] });
    const b = await team({ adam: ['admin'], bill: ['billing'] });
    const tokens = {
      ...a.tokens,
      adminB: b.tokens.adam,
      billingB: b.tokens.bill,
      fin: await issue({ service: 'finance', scope: 'global' }),
      finA: await issue({ service: 'finance', teamId: a.teamId }),
      finB: await issue({ service: 'finance', teamId: b.teamId }),
      agentA: await issue({ service: 'agent', teamId: a.teamId }),
      prov: PROVISIONING_TOKEN,
    };
    const memberPath = `/v1/teams/${a.teamId}/members/mia/usage/daily`;
    const teamPath = `/v1/teams/${a.teamId}/usage/daily`;
    const status = async (token: string | undefined, path: string) => (await client(token)('GET', path)).status;
    const outcomes = async (path: string) =>
      Object.fromEntries(
        await Promise.all(
          ['none', ...Object.keys(tokens)].map(async (caller) => [
            caller,
            await status(caller === 'none' ? undefined : tokens[caller as keyof typeof tokens], path),
          ]),
        ),
      );
    expect(await outcomes(memberPath)).toEqual({
      none: 401,
      mia: 200, // self
      olly: 403,
      ada: 200,
      bea: 200,
      adminB: 404,
      billingB: 404,
      fin: 200,
      finA: 200,
      finB: 404,
      agentA: 403,
      prov: 403,
    });
    expect(await outcomes(teamPath)).toEqual({
      none: 401,
      mia: 403,
      olly: 403,
      ada: 200,
      bea: 200,
      adminB: 404,
      billingB: 404,
      fin: 403,
      finA: 403,
      finB: 404,
      agentA: 403,
      prov: 403,
    });
    // Unknown team or member: 404 with the contract's error body.
    const fin = client(tokens.fin);
    expect((await fin('GET', `/v1/teams/${a.teamId}/members/nobody/usage/daily`)).body).toEqual({
      error: { code: 'not_found', message: expect.any(String) },
    });
    expect((await fin('GET', `/v1/teams/${uid('team')}/members/mia/usage/daily`)).status).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await prov()('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/teams/{teamId}/members/{userId}/usage/daily'].get.summary).toEqual(expect.any(String));
    expect(doc.paths['/v1/teams/{teamId}/usage/daily'].get.responses['200']).toBeDefined();
  });
});

/** A GET with the path sent exactly as given (fetch would resolve `..` before sending). */
function rawGet(path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(served.url);
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("the dashboard's files", () => {
  it('serves the page, its modules and Chart.js from node_modules with their types, CSP and revalidation', async () => {
    const files: [string, RegExp][] = [
      ['/dashboard', /^text\/html/],
      ['/dashboard/main.js', /^text\/javascript/],
      ['/dashboard/views/charts.js', /^text\/javascript/],
      ['/dashboard/style.css', /^text\/css/],
      ['/dashboard/vendor/chart.umd.min.js', /^text\/javascript/],
    ];
    for (const [path, type] of files) {
      const res = await rawGet(path);
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status: 200,
        type: expect.stringMatching(type),
      });
      expect(res.headers).toMatchObject({
        'cache-control': 'no-cache',
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'x-content-type-options': 'nosniff',
        etag: expect.stringMatching(/^".+"$/),
      });
      const again = await rawGet(path, { 'if-none-match': String(res.headers.etag) });
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
    }
    expect((await rawGet('/dashboard/vendor/chart.umd.min.js')).body).toContain('Chart.js v4');
  });

  it('serves nothing outside its folder and its allow-list', async () => {
    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/..%2fpackage.json',
      '/dashboard/views/../../routes/system.ts',
      '/dashboard/views/%2e%2e%2f%2e%2e%2froutes%2fsystem.ts',
      '/dashboard/index.html/../../app.ts',
      '/dashboard/vendor/chart.js',
      '/dashboard/vendor/../../../../package.json',
      '/dashboard/app.js',
      '/dashboard/main.ts',
      '/dashboard//etc/passwd',
      '/dashboard/%00main.js',
    ]) {
      const res = await rawGet(path);
      expect({ path, ok: res.status < 300 }).toEqual({ path, ok: false });
      expect(res.body).not.toMatch(/"name": "ai-credits"|import|registerRoutes/);
    }
  });
});
