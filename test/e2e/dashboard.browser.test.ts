/**
 * The dashboard in a real browser (headless Chromium through playwright-core) against the real API, a real
 * worker and the Temporal dev server: sign in with member tokens, watch usage move, turn PAYG off for a member
 * from the page and see the agent refused, see what a plain member sees, read the charts (Chart.js's own data),
 * page and search the usage table, export it as CSV, and wait out a 429.
 *
 * Screenshots of the billing and member views (1280 wide, the whole page) go to $SCREENSHOTS_DIR, by default
 * .data/test/screenshots/; `SCREENSHOTS_DIR=docs` refreshes docs/dashboard.png and docs/dashboard-member.png.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { newPage } from '../support/chromium';
import {
  clickRefresh,
  expectNoHorizontalOverflow,
  expectNoPageProblems,
  expectText,
  provisionTeam as provisionTeamAt,
  refreshUntil,
  screenshot,
  signIn,
  UI_TIMEOUT,
  useDashboardStack,
} from '../support/dashboard';
import { uid } from '../support/harness';
import { periodContaining } from '../../workflows/domain/periods';

const stack = useDashboardStack();

const { prov } = stack;
const provisionTeam = (members: { userId: string; roles: string[] }[], team?: Parameters<typeof provisionTeamAt>[2]) =>
  provisionTeamAt(stack.url, members, team);

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Waits for a chart to reach a state (`ready`, `empty`, …), then returns Chart.js's own data of it, by label. */
async function chartData(page: Page, testId: string, state: 'ready' | 'empty' = 'ready') {
  const figure = page.locator(`[data-testid="${testId}"][data-state="${state}"]`);
  await figure.waitFor({ state: 'attached', timeout: UI_TIMEOUT });
  return page.evaluate((id) => {
    type ChartLike = { data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] } };
    const canvas = document.querySelector(`[data-testid="${id}"] canvas`);
    const Chart = (window as unknown as { Chart: { getChart(c: Element | null): ChartLike | undefined } }).Chart;
    const chart = Chart.getChart(canvas);
    if (!chart) return null;
    return {
      labels: chart.data.labels,
      series: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data])),
    };
  }, testId);
}

/** The page's label of a UTC day, as the charts write it ("Dec 2"). */
const dayLabel = (isoDate: string) =>
  new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(isoDate));

/**
 * The projection the page must state for `usedMilli` of `totalMilli` credits: the pace is the credits used over
 * the days of the period begun (today counting whole), and 100 % falls on the first day whose end reaches it.
 */
function expectedProjection(periodStart: number, periodEnd: number, usedMilli: number, totalMilli: number) {
  const begun = Math.floor((Date.now() - periodStart) / DAY_MS) + 1;
  const perDay = Math.floor(usedMilli / begun);
  const pace = `${perDay / 1000} credits a day`;
  const needed = Math.ceil((totalMilli * begun) / usedMilli);
  const day = periodStart + (needed - 1) * DAY_MS;
  return day < periodEnd
    ? `At the current pace (${pace}), 100 % is reached on ${dayLabel(isoDay(day))}.`
    : new RegExp(`^At the current pace \\(${pace.replace('.', '\\.')}\\), the credits last until they renew on `);
}

/** Parses the export (RFC 4180: quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('dashboard in a browser', () => {
  it('shows a team with only its billing user as that one member, with no alerts', async () => {
    const { tokens } = await provisionTeam([{ userId: 'solo', roles: ['billing'] }]);
    const { context, page, problems } = await newPage(stack.browser);
    try {
      await page.goto(`${stack.url}/dashboard`);
      await page.getByTestId('token-input').waitFor({ state: 'visible' });
      await signIn(page, tokens.solo, 'solo');

      await expectText(page, 'used-solo', '0');
      await expectText(page, 'remaining-solo', '400');
      await expectText(page, 'payg-state-solo', 'On');
      expect(await page.locator('[data-testid^="member-row-"]').count()).toBe(1);
      expect(await page.getByTestId('empty-state').isVisible()).toBe(false);
      expect(await page.getByTestId('loading').isVisible()).toBe(false);
      expect(await page.getByTestId('alerts-empty').isVisible()).toBe(true);
      expect(await page.getByTestId('alerts-list').locator('li').count()).toBe(0);
      await expectText(page, 'team-summary', /^Basic plan · 1 member · 0 paused/);
      expect(await page.getByTestId('pager').isVisible()).toBe(false);

      // Charts with nothing to draw say so.
      expect(await chartData(page, 'team-chart', 'empty')).toBeNull();
      await expectText(page, 'team-chart-empty', 'No pay-as-you-go charges this period.');
      await expectText(
        page,
        'team-chart-caption',
        'Pay-as-you-go charges this period $0.00 · no billing threshold set.',
      );
      await page.getByTestId('details-solo').click();
      expect(await chartData(page, 'details-chart', 'empty')).toBeNull();
      await expectText(page, 'details-chart-empty', 'No credits used yet this period.');
      await expectText(page, 'details-used-solo', '0');
      expect(await page.getByTestId('details-chart-projection').isVisible()).toBe(false);
      await page.getByTestId('details-close').click();
      expect(await page.getByTestId('details').isVisible()).toBe(false);
      expect(await page.getByTestId('error-banner').isVisible()).toBe(false);

      // A hidden tab asks nothing (the page polls every 10 s); shown again after longer, it refreshes at once.
      const asked: string[] = [];
      page.on('request', (req) => {
        if (req.url().includes('/v1/')) asked.push(req.url());
      });
      const setHidden = (hidden: boolean) =>
        page.evaluate((value) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
          Object.defineProperty(document, 'visibilityState', {
            configurable: true,
            get: () => (value ? 'hidden' : 'visible'),
          });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      await page.waitForTimeout(11_000);
      expect(asked).toEqual([]);
      await setHidden(false);
      await page.waitForTimeout(1_000);
      expect(asked.some((u) => u.endsWith('/v1/me/alerts'))).toBe(true);
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('Billing sees usage reach 100 %, turns PAYG off and pauses the member; the member sees only their card', async () => {
    const { teamId, tokens } = await provisionTeam([
      { userId: 'bea', roles: ['billing'] },
      { userId: 'ada', roles: ['admin'] },
      { userId: 'max', roles: ['member'] },
    ]);
    const agentToken = (await prov()('POST', '/v1/tokens', { service: 'agent', teamId })).body.token as string;
    const agent = stack.client(agentToken);
    const consume = (userId: string, credits: string) =>
      agent('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
        requestId: uid('req'),
        action: 'generate_request',
        credits,
      });

    const { context, page, problems } = await newPage(stack.browser);
    try {
      // ---- Billing signs in: every member, nothing used yet ----
      await page.goto(`${stack.url}/dashboard`);
      await signIn(page, tokens.bea, 'bea');
      await expectText(page, 'whoami', `bea · team ${teamId} · Billing`);
      for (const userId of ['bea', 'ada', 'max']) {
        expect(await page.getByTestId(`member-row-${userId}`).isVisible()).toBe(true);
        await expectText(page, `used-${userId}`, '0');
        await expectText(page, `remaining-${userId}`, '400');
        await expectText(page, `payg-state-${userId}`, 'On');
      }
      const toggle = page.getByTestId('payg-toggle-max');
      expect(await toggle.getAttribute('role')).toBe('switch');
      expect(await toggle.isChecked()).toBe(true);
      expect(await toggle.isEnabled()).toBe(true);
      expect(await page.getByTestId('buy-max').isVisible()).toBe(true);
      expect(await page.getByTestId('paused-max').count()).toBe(0);

      // ---- The agent spends max's allowance (≤ 200 per action); ada spends a little ----
      expect((await consume('max', '200')).body.decision).toBe('allowed');
      expect((await consume('max', '100')).body.balance).toMatchObject({ used: '300', remaining: '100' });
      const last = await consume('max', '100');
      expect(last.status).toBe(200);
      expect(last.body).toMatchObject({
        decision: 'allowed',
        balance: { used: '400', remaining: '0', paygEnabled: true, paused: false },
      });
      expect((await consume('ada', '52.5')).status).toBe(200);

      await page.getByTestId('refresh').click();
      await expectText(page, 'used-max', '400');
      await expectText(page, 'remaining-max', '0');
      await expectText(page, 'payg-state-max', 'On');
      await expectText(page, 'used-ada', '52.5');
      await expectText(page, 'remaining-ada', '347.5');
      expect(await page.getByTestId('paused-max').count()).toBe(0);
      expect(await page.getByTestId('meter-max').getAttribute('aria-valuenow')).toBe('100');

      // ---- The charts: max's day, ada's projection; nobody used PAYG ----
      const period = periodContaining(Date.now(), 1);
      const today = Math.floor((Date.now() - period.start) / DAY_MS);
      await page.getByTestId('details-max').click();
      await expectText(page, 'details-used-max', '400');
      let chart = await chartData(page, 'details-chart');
      expect(chart!.labels[0]).toBe(dayLabel(isoDay(period.start)));
      expect(chart!.series['Used that day'][today]).toBe(400);
      expect(chart!.series['Used so far'][today]).toBe(400);
      expect(chart!.series['75 % of credits'][0]).toBe(300);
      expect(chart!.series['100 % of credits'][0]).toBe(400);
      await expectText(
        page,
        'details-chart-projection',
        `100 % of the credits was reached on ${dayLabel(isoDay(Date.now()))}.`,
      );
      await page.getByTestId('details-ada').click();
      await expectText(page, 'details-used-ada', '52.5');
      chart = await chartData(page, 'details-chart');
      expect(chart!.series['Used that day'][today]).toBe(52.5);
      const projection = expectedProjection(period.start, period.end, 52_500, 400_000);
      await expectText(page, 'details-chart-projection', projection);
      expect(await page.getByTestId('details-ada').getAttribute('aria-expanded')).toBe('true');
      await page.getByTestId('details-close').click();
      expect(await chartData(page, 'team-chart', 'empty')).toBeNull();

      // ---- Billing turns PAYG off for max in the page: paused at once ----
      await toggle.click();
      await expectText(page, 'payg-state-max', 'Off');
      await page.getByTestId('paused-max').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      expect(await toggle.isChecked()).toBe(false);
      await expectText(page, 'notice', /Pay-as-you-go turned off for max@example\.com\. Agent Mode is paused/);
      expect(await page.getByTestId('paused-ada').count()).toBe(0);
      expect(await page.getByTestId('error-banner').isVisible()).toBe(false);

      // The API agrees: the agent is refused, nothing recorded.
      const refused = await consume('max', '1');
      expect(refused.status).toBe(402);
      expect(refused.body).toMatchObject({
        decision: 'refused',
        reason: 'paused',
        balance: { used: '400', remaining: '0', paygEnabled: false, paused: true },
      });
      const credits = await stack.client(tokens.bea)('GET', `/v1/teams/${teamId}/members/max/credits`);
      expect(credits.body.balance).toMatchObject({ paygEnabled: false, paused: true, paygCredits: '0' });

      // Still paused after a refresh from the server (not just the optimistic answer).
      await clickRefresh(page);
      expect(await page.getByTestId('paused-max').isVisible()).toBe(true);
      // The summary line is recomputed by a refresh only (a toggle updates just its row).
      await expectText(page, 'team-summary', 'Basic plan · 3 members · 1 paused · PAYG charges this period $0.00');
      await expectNoHorizontalOverflow(page);

      // ---- max signs in: only their own card and their alerts ----
      await page.getByTestId('sign-out').click();
      await page.getByTestId('token-input').waitFor({ state: 'visible' });
      await signIn(page, tokens.max, 'max');
      await expectText(page, 'whoami', `max · team ${teamId} · Member`);
      expect(await page.locator('[data-testid^="member-row-"]').count()).toBe(1);
      expect(await page.getByTestId('member-row-max').isVisible()).toBe(true);
      expect(await page.getByTestId('payg-toggle-max').count()).toBe(0);
      expect(await page.getByTestId('buy-max').count()).toBe(0);
      await expectText(page, 'used-max', '400');
      await expectText(page, 'remaining-max', '0');
      await expectText(page, 'payg-state-max', 'Off');
      expect(await page.getByTestId('paused-max').isVisible()).toBe(true);

      const alertKinds = () =>
        page
          .getByTestId('alerts-list')
          .locator('li')
          .evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.kind));
      await refreshUntil(
        page,
        async () => {
          const kinds = await alertKinds();
          return kinds.includes('member_75') && kinds.includes('member_100') && kinds.includes('member_paused');
        },
        'the 75 %, 100 % and paused alerts',
      );
      const kinds = await alertKinds();
      expect(kinds.sort()).toEqual(['member_100', 'member_75', 'member_paused']);
      const alertsText = await page.getByTestId('alerts-list').innerText();
      expect(alertsText).toMatch(/You've used 75% of your AI credits for this period \(300 of 400 credits\)/);
      expect(alertsText).toMatch(/You've used 100% of your AI credits \(400 of 400 credits\)/);
      // Billing turned PAYG off with no credits left: paused, and told so.
      expect(alertsText).toMatch(
        /Paused\s+Agent Mode is paused: you have used all your AI credits \(400 of 400 credits\)/,
      );
      expect(await page.getByTestId('alerts-empty').isVisible()).toBe(false);
      await expectText(page, 'notices-max', '75% reached, 100% reached');
      const own = await chartData(page, 'member-chart');
      expect(own!.series['Used that day'][today]).toBe(400);
      await expectText(
        page,
        'member-chart-projection',
        `100 % of the credits was reached on ${dayLabel(isoDay(Date.now()))}.`,
      );
      await expectNoHorizontalOverflow(page);

      // Another member's data is out of reach for max's token.
      const other = await stack.client(tokens.max)('GET', `/v1/teams/${teamId}/members/ada/credits`);
      expect(other.status).toBe(403);
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('pages, searches and exports the usage table; draws a period of history with its PAYG against the threshold', async () => {
    // A period begun 12 days ago (or more), so the charts have days to show.
    const billingAnchorDay = Math.min(28, new Date(Date.now() - 12 * DAY_MS).getUTCDate());
    const period = periodContaining(Date.now(), billingAnchorDay);
    const users = ['ada', 'bea', 'ben', 'cai', 'dee', 'eve', 'fay', 'gus'];
    const { teamId, tokens } = await provisionTeam(
      users.map((userId) => ({ userId, roles: userId === 'bea' ? ['billing'] : ['member'] })),
      { billingAnchorDay, paygThresholdMinor: 500 },
    );
    const agent = stack.client((await prov()('POST', '/v1/tokens', { service: 'agent', teamId })).body.token);
    /** Consumes, then moves the ledger rows `daysBack` days back: the charts' history (nothing else reads it). */
    const consume = async (userId: string, credits: string, daysBack: number) => {
      const requestId = uid('req');
      const res = await agent('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
        requestId,
        action: 'generate_request',
        credits,
      });
      expect(res.status).toBe(200);
      await stack.h
        .db('ledger_entries')
        .where({ team_id: teamId, request_id: requestId })
        .update({ occurred_at: stack.h.db.raw('occurred_at - make_interval(days => ?)', [daysBack]) });
    };
    const eveDays: [string, number][] = [
      ['40', 9],
      ['25', 8],
      ['60', 6],
      ['35', 5],
      ['80', 3],
      ['45', 2],
      ['30', 0],
    ];
    for (const [credits, daysBack] of eveDays) await consume('eve', credits, daysBack);
    // gus: his 400 credits, then 150 credits of PAYG at $0.04 ($6.00, past the $5.00 threshold).
    for (const [credits, daysBack] of [
      ['200', 7],
      ['200', 4],
      ['75', 3],
      ['50', 1],
      ['25', 0],
    ] as const)
      await consume('gus', credits, daysBack);
    await consume('ada', '52.5', 0);

    const { context, page, problems } = await newPage(stack.browser, { height: 900 });
    try {
      await page.goto(`${stack.url}/dashboard?pageSize=3`);
      await signIn(page, tokens.bea, 'bea');
      const rows = () =>
        page
          .locator('#members-body > tr')
          .evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.testid!.replace('member-row-', '')));
      const waitRows = async (expected: string[]) => {
        const until = Date.now() + UI_TIMEOUT;
        while (JSON.stringify(await rows()) !== JSON.stringify(expected)) {
          if (Date.now() > until) {
            // What the page showed besides, so a failure on a busy machine says which way it went.
            const banner = (await page.getByTestId('error-banner').isVisible())
              ? await page.getByTestId('error-banner').textContent()
              : 'none';
            throw new Error(
              `rows ${JSON.stringify(await rows())}, expected ${expected}; page info ` +
                `"${await page.getByTestId('page-info').textContent()}", error banner: ${banner}; ` +
                `failed requests ${JSON.stringify(problems.failedRequests)}, page errors ${JSON.stringify(problems.errors)}`,
            );
          }
          await page.waitForTimeout(50);
        }
      };

      // ---- paging: three a page, in user id order ----
      expect(await page.getByTestId('page-size').inputValue()).toBe('3');
      await waitRows(['ada', 'bea', 'ben']);
      await expectText(page, 'page-info', 'Members 1–3 · page 1');
      expect(await page.getByTestId('page-prev').getAttribute('aria-disabled')).toBe('true');
      await expectText(page, 'team-summary', 'Basic plan · Members by user id · 0 paused on this page');

      // The next page is answered 429 once: the page waits the Retry-After (1 s) and asks again, no error shown.
      let limited = 0;
      await page.route(/\/usage\?/, async (route) => {
        if (limited++ === 0)
          return route.fulfill({
            status: 429,
            headers: { 'retry-after': '1', 'content-type': 'application/json' },
            body: JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }),
          });
        return route.continue();
      });
      const clicked = Date.now();
      await page.getByTestId('page-next').click();
      await waitRows(['cai', 'dee', 'eve']);
      expect(Date.now() - clicked).toBeGreaterThanOrEqual(1000);
      expect(limited).toBe(2);
      await page.unroute(/\/usage\?/);
      expect(await page.getByTestId('error-banner').isVisible()).toBe(false);
      expect(problems.failedRequests).toEqual([expect.stringMatching(/\/usage\?limit=3&cursor=ben: HTTP 429$/)]);
      problems.failedRequests.length = 0;

      await expectText(page, 'page-info', 'Members 4–6 · page 2');
      await page.getByTestId('page-next').click();
      await waitRows(['fay', 'gus']);
      expect(await page.getByTestId('page-next').getAttribute('aria-disabled')).toBe('true');
      await page.getByTestId('page-prev').click();
      await waitRows(['cai', 'dee', 'eve']);
      // A refresh reloads the page shown, not the first.
      await clickRefresh(page);
      await waitRows(['cai', 'dee', 'eve']);

      // ---- search (debounced): by user id, by email; the whole answer fits one page ----
      await page.getByTestId('member-search').fill('ev');
      await waitRows(['eve']);
      expect(await page.getByTestId('pager').isVisible()).toBe(false);
      await expectText(page, 'team-summary', /^Basic plan · 1 member matches “ev” · 0 paused$/);
      await page.getByTestId('member-search').fill('GUS@EXAMPLE');
      await waitRows(['gus']);
      await page.getByTestId('member-search').fill('nobody-here');
      await expectText(page, 'empty-state', 'No members match “nobody-here”.');
      await page.getByTestId('member-search').fill('');
      await waitRows(['ada', 'bea', 'ben']);

      // ---- CSV export: every page, as the API answers them ----
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
      expect(download.suggestedFilename()).toBe(`ai-credits-usage-${teamId}-${isoDay(period.start)}.csv`);
      const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
      await expectText(page, 'notice', `Exported 8 members to ${download.suggestedFilename()}.`);
      const api = (await stack.client(tokens.bea)('GET', `/v1/teams/${teamId}/usage?limit=500`)).body;
      expect(csv).toEqual([
        [
          'userId',
          'email',
          'roles',
          'allowance',
          'purchased',
          'used',
          'remaining',
          'paygEnabled',
          'paygCredits',
          'paygCharge',
          'paused',
          'currency',
          'held',
          'paygCap',
        ],
        ...api.members.map((m: { userId: string; email: string; roles: string[]; balance: unknown }) => {
          const b = m.balance as Record<string, string> & {
            paygCharge: { amountMinor: number; currency: string };
            paygCap: { amountMinor: number } | null;
          };
          return [
            m.userId,
            m.email,
            m.roles.join(' '),
            b.allowance,
            b.purchased,
            b.used,
            b.remaining,
            String(b.paygEnabled),
            b.paygCredits,
            (b.paygCharge.amountMinor / 100).toFixed(2),
            String(b.paused),
            b.paygCharge.currency,
            b.held,
            b.paygCap === null ? '' : (b.paygCap.amountMinor / 100).toFixed(2),
          ];
        }),
      ]);
      expect(csv.slice(1).map((r) => r[0])).toEqual(users);
      expect(csv.find((r) => r[0] === 'eve')).toEqual(
        expect.arrayContaining(['eve', 'eve@example.com', 'member', '400', '0', '315', '85']),
      );
      expect(csv.find((r) => r[0] === 'gus')!.slice(5)).toEqual([
        '400',
        '0',
        'true',
        '150',
        '6.00',
        'false',
        'USD',
        '0',
        '',
      ]);

      // ---- the team's PAYG per day against its $5.00 threshold ----
      const dayOf = (daysBack: number) => Math.floor((Date.now() - daysBack * DAY_MS - period.start) / DAY_MS);
      const team = await chartData(page, 'team-chart');
      const charges = team!.series['Charges that day'];
      expect(charges[dayOf(3)]).toBe(3);
      expect(charges[dayOf(1)]).toBe(2);
      expect(charges[dayOf(0)]).toBe(1);
      expect(charges.reduce((a, b) => a! + (b ?? 0), 0)).toBe(6);
      expect(team!.series['Charges so far'][dayOf(0)]).toBe(6);
      expect(team!.series['Billing threshold'].every((v) => v === 5)).toBe(true);
      expect(team!.series['PAYG cap']).toBeUndefined();
      await expectText(
        page,
        'team-chart-caption',
        'Pay-as-you-go charges this period $6.00 · billing threshold $5.00.',
      );

      // ---- eve's period in detail: her days, the 75 % and 100 % lines, the projection ----
      await page.getByTestId('member-search').fill('eve');
      await waitRows(['eve']);
      await page.getByTestId('details-eve').click();
      const eve = await chartData(page, 'details-chart');
      expect(eve!.labels).toHaveLength(Math.round((period.end - period.start) / DAY_MS));
      const used = eve!.series['Used that day'];
      for (const [credits, daysBack] of eveDays) expect(used[dayOf(daysBack)]).toBe(Number(credits));
      expect(used.slice(dayOf(0) + 1).every((v) => v === null)).toBe(true);
      expect(eve!.series['Used so far'][dayOf(0)]).toBe(315);
      expect(eve!.series['75 % of credits'][0]).toBe(300);
      expect(eve!.series['100 % of credits'][0]).toBe(400);
      expect(eve!.series['Pay-as-you-go that day']).toBeUndefined();
      await expectText(
        page,
        'details-chart-projection',
        expectedProjection(period.start, period.end, 315_000, 400_000),
      );
      await expectText(page, 'details-chart-caption', /^315 of 400 credits used \(78\.7%\) · credits renew on /);
      await page.getByTestId('member-search').fill('');
      await waitRows(['ada', 'bea', 'ben']);
      await page.getByTestId('member-search').blur();
      await expectNoHorizontalOverflow(page);
      await screenshot(page, 'dashboard.png');

      // ---- eve herself: her card and her chart ----
      await page.getByTestId('sign-out').click();
      await signIn(page, tokens.eve, 'eve');
      const own = await chartData(page, 'member-chart');
      expect(own!.series['Used that day']).toEqual(used);
      await expectText(page, 'member-chart-projection', expectedProjection(period.start, period.end, 315_000, 400_000));
      await expectText(page, 'used-eve', '315');
      await expectNoHorizontalOverflow(page);
      await screenshot(page, 'dashboard-member.png');
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });
});
