/**
 * PAYG caps, held credits and the audit trail on the dashboard (spec §14, §15), in a real browser (headless Chromium
 * through playwright-core) against the real API, a real worker and the Temporal dev server: Billing sets a member's
 * cap and the team's from the page and sees each change in the audit trail, newest first, with "load more"; a
 * refused amount (typed wrong, or refused by the API) is shown and changes nothing; an Admin sees the same caps
 * read-only; a member sees their own cap and held credits; amounts typed in major units become exact minor units.
 *
 * A screenshot of the audit trail goes to $SCREENSHOTS_DIR (default .data/test/screenshots/; `SCREENSHOTS_DIR=docs`
 * refreshes docs/dashboard-audit.png).
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { newPage } from '../support/chromium';
import {
  clickRefresh,
  expectNoHorizontalOverflow,
  expectNoPageProblems,
  expectText,
  provisionTeam,
  refreshUntil,
  screenshot,
  signIn,
  UI_TIMEOUT,
  useDashboardStack,
} from '../support/dashboard';

const stack = useDashboardStack();

interface AuditEvent {
  id: number;
  action: string;
  actorUserId: string | null;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/** The team's whole trail from the API, newest first. */
async function trail(token: string, teamId: string): Promise<AuditEvent[]> {
  const res = await stack.client(token)('GET', `/v1/teams/${teamId}/audit?order=newest&limit=500`);
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.events as AuditEvent[];
}

/** The events the page lists, in its order: id, action, and the texts of their parts. */
function shownEvents(page: Page) {
  return page
    .getByTestId('audit-list')
    .locator(':scope > li')
    .evaluateAll((items) =>
      items.map((li) => {
        const text = (id: string) => li.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        return {
          id: Number((li as HTMLElement).dataset.testid!.replace('audit-event-', '')),
          action: (li as HTMLElement).dataset.action,
          target: text('audit-target'),
          change: text('audit-change'),
          actor: text('audit-actor'),
        };
      }),
    );
}

/** Waits until the newest event the page lists is the one expected (its action, target, change and actor). */
async function expectNewest(page: Page, expected: { action: string; target: string; change: string; actor: string }) {
  const until = Date.now() + UI_TIMEOUT;
  for (;;) {
    const [first] = await shownEvents(page);
    const { id: _id, ...shown } = first ?? { id: 0 };
    if (JSON.stringify(shown) === JSON.stringify(expected)) return;
    if (Date.now() > until) throw new Error(`the newest event shown is ${JSON.stringify(first)}`);
    await page.waitForTimeout(100);
  }
}

describe('caps and the audit trail on the dashboard', () => {
  it('Billing sets a member cap and the team cap and sees them in the audit trail; an Admin sees them read-only', async () => {
    const { teamId, tokens } = await provisionTeam(stack.url, [
      { userId: 'bea', roles: ['billing'] },
      { userId: 'ada', roles: ['admin'] },
      { userId: 'max', roles: ['member'] },
      { userId: 'gone', roles: ['member'] },
    ]);
    const p = stack.prov();
    const agent = stack.client((await p('POST', '/v1/tokens', { service: 'agent', teamId })).body.token as string);
    const m = `/v1/teams/${teamId}/members/max`;
    expect(
      (await agent('POST', `${m}/consumptions`, { requestId: 'c1', action: 'generate_request', credits: '100' }))
        .status,
    ).toBe(200);
    // An agent action still running holds 25 credits: out of Remaining, not charged.
    const hold = await agent('POST', `${m}/reservations`, {
      reservationId: 'job-1',
      action: 'generate_request',
      credits: '25',
      ttlSeconds: 3600,
    });
    expect(hold.body).toMatchObject({ status: 'held', balance: { held: '25', remaining: '275' } });

    const { context, page, problems } = await newPage(stack.browser, { height: 900 });
    try {
      // ---- Billing: caps and held credits in the table, the trail newest first ----
      await page.goto(`${stack.url}/dashboard?auditPageSize=5`);
      await signIn(page, tokens.bea, 'bea');
      await expectText(page, 'remaining-max', '275');
      await expectText(page, 'held-max', '25 held for running actions');
      expect(await page.getByTestId('held-ada').isVisible()).toBe(false);
      await expectText(page, 'payg-cap-max', 'No monthly cap');
      await expectText(page, 'cap-edit-max', 'Set cap');
      await expectText(page, 'team-cap', 'No team cap on pay-as-you-go');
      expect(await page.getByTestId('team-cap-edit').isVisible()).toBe(true);
      const before = await trail(tokens.bea, teamId);
      await expectText(page, 'audit-list', /Token issued/);
      expect((await shownEvents(page)).map((e) => e.id)).toEqual(before.slice(0, 5).map((e) => e.id));

      // ---- An amount with too many decimals: said in the dialog, nothing sent ----
      const puts: string[] = [];
      page.on('request', (req) => {
        if (req.method() === 'PUT') puts.push(req.url());
      });
      await page.getByTestId('cap-edit-max').click();
      await page.getByTestId('cap-dialog').waitFor({ state: 'visible' });
      await expectText(page, 'cap-current', 'There is no cap now.');
      await page.getByTestId('cap-input').fill('12.345');
      await page.getByTestId('cap-submit').click();
      await expectText(page, 'cap-error', 'Enter at most 2 decimal places, such as 25 or 25.50.');
      expect(await page.getByTestId('cap-input').getAttribute('aria-invalid')).toBe('true');
      expect(puts).toEqual([]);

      // ---- $25 for max: the row shows it, PAYG stays on, the trail has it first ----
      await page.getByTestId('cap-input').fill('25');
      await page.getByTestId('cap-submit').click();
      await expectText(page, 'notice', 'The monthly pay-as-you-go cap of max@example.com is now $25.00.');
      expect(await page.getByTestId('cap-dialog').isVisible()).toBe(false);
      await expectText(page, 'payg-cap-max', 'Cap $25.00 a month');
      await expectText(page, 'cap-edit-max', 'Change cap');
      await expectText(page, 'payg-state-max', 'On');
      expect(puts).toEqual([`${stack.url}${m}/payg`]);
      await expectNewest(page, {
        action: 'payg_cap.changed',
        target: 'Member max',
        change: 'Monthly cap: none → $25.00',
        actor: 'bea',
      });
      const credits = await stack.client(tokens.bea)('GET', `${m}/credits`);
      expect(credits.body.balance).toMatchObject({
        paygEnabled: true,
        paygCap: { amountMinor: 2500, currency: 'USD' },
        held: '25',
      });
      const [capEvent] = await trail(tokens.bea, teamId);
      expect(capEvent).toMatchObject({
        action: 'payg_cap.changed',
        actorUserId: 'bea',
        target: 'member:max',
        before: { monthlyCapMinor: null },
        after: { monthlyCapMinor: 2500 },
      });

      // Changed again, with cents: before → after in the trail.
      await page.getByTestId('cap-edit-max').click();
      await expectText(page, 'cap-current', 'The cap now: $25.00 a month.');
      expect(await page.getByTestId('cap-input').inputValue()).toBe('25');
      await page.getByTestId('cap-input').fill('30.5');
      await page.getByTestId('cap-submit').click();
      await expectText(page, 'payg-cap-max', 'Cap $30.50 a month');
      await expectNewest(page, {
        action: 'payg_cap.changed',
        target: 'Member max',
        change: 'Monthly cap: $25.00 → $30.50',
        actor: 'bea',
      });

      // ---- The API refuses (the member left meanwhile): the dialog and the banner say so, nothing changes ----
      await page.getByTestId('cap-edit-gone').click();
      expect((await p('DELETE', `/v1/teams/${teamId}/members/gone`)).status).toBe(204);
      await page.getByTestId('cap-input').fill('5');
      await page.getByTestId('cap-submit').click();
      const refusal = `The cap was not changed: member gone not found in team ${teamId}`;
      await expectText(page, 'cap-error', refusal);
      expect(await page.getByTestId('error-banner').isVisible()).toBe(true);
      expect(await page.locator('#error-text').textContent()).toBe(refusal);
      expect(await page.getByTestId('cap-dialog').isVisible()).toBe(true);
      expect(problems.failedRequests).toEqual([`PUT ${stack.url}/v1/teams/${teamId}/members/gone/payg: HTTP 404`]);
      problems.failedRequests.length = 0;
      await page.getByTestId('cap-cancel').click();
      expect(
        (await trail(tokens.bea, teamId)).some((e) => e.target === 'member:gone' && e.action.startsWith('payg')),
      ).toBe(false);
      await page.getByTestId('error-banner').getByRole('button').click();

      // ---- The team's cap: $100 ----
      await page.getByTestId('team-cap-edit').click();
      await page.getByTestId('cap-input').fill('100');
      await page.getByTestId('cap-submit').click();
      await expectText(page, 'team-cap', 'Team cap on pay-as-you-go: $100.00 a month');
      await expectText(page, 'team-cap-edit', 'Change team cap');
      await expectNewest(page, {
        action: 'team_payg_cap.changed',
        target: `Team ${teamId}`,
        change: 'Monthly cap: none → $100.00',
        actor: 'bea',
      });

      // ---- "Load more" walks the whole trail, newest first, as the API has it ----
      await clickRefresh(page);
      const all = await trail(tokens.bea, teamId);
      expect(all.length).toBeGreaterThan(10);
      const more = page.getByTestId('audit-more');
      let clicks = 0;
      while (await more.isVisible()) {
        const shown = (await shownEvents(page)).length;
        await more.click();
        await page.waitForFunction((n) => document.querySelectorAll('#audit-list > li').length > n, shown, {
          timeout: UI_TIMEOUT,
        });
        clicks++;
      }
      expect(clicks).toBeGreaterThan(0);
      expect((await shownEvents(page)).map((e) => e.id)).toEqual(all.map((e) => e.id));
      await expectNoHorizontalOverflow(page);
      await page.getByTestId('audit-list').scrollIntoViewIfNeeded();
      await screenshot(page, 'dashboard-audit.png');

      // ---- The export carries the cap and what is held ----
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
      const rows = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\r\n')
        .map((r) => r.split(','));
      expect(rows[0].slice(-2)).toEqual(['held', 'paygCap']);
      expect(rows.find((r) => r[0] === 'max')!.slice(-2)).toEqual(['25', '30.50']);
      expect(rows.find((r) => r[0] === 'ada')!.slice(-2)).toEqual(['0', '']);
      expectNoPageProblems(problems);

      // ---- Ada (Admin, not Billing): the same caps, read-only; the same trail ----
      await page.getByTestId('sign-out').click();
      await signIn(page, tokens.ada, 'ada');
      await expectText(page, 'payg-cap-max', 'Cap $30.50 a month');
      await expectText(page, 'held-max', '25 held for running actions');
      expect(await page.getByTestId('cap-edit-max').count()).toBe(0);
      expect(await page.getByTestId('payg-toggle-max').count()).toBe(0);
      await expectText(page, 'team-cap', 'Team cap on pay-as-you-go: $100.00 a month');
      expect(await page.getByTestId('team-cap-edit').isVisible()).toBe(false);
      await refreshUntil(page, async () => (await shownEvents(page)).length === 5, 'the first page of the trail');
      expect((await shownEvents(page))[0]).toMatchObject({ action: 'team_payg_cap.changed', actor: 'bea' });
      // The API agrees: Admin may not set caps.
      const adminPut = await stack.client(tokens.ada)('PUT', `${m}/payg`, { monthlyCapMinor: 1 });
      expect(adminPut.status).toBe(403);

      // ---- Max: their own cap and held credits, no trail ----
      await page.getByTestId('sign-out').click();
      await signIn(page, tokens.max, 'max');
      await expectText(page, 'payg-cap-max', 'Cap $30.50 a month');
      await expectText(page, 'held-max', '25 held for running actions');
      await expectText(page, 'remaining-max', '275');
      expect(await page.getByTestId('cap-edit-max').count()).toBe(0);
      expect(await page.locator('#audit-section').isVisible()).toBe(false);
      expect(await page.locator('#team-payg-section').isVisible()).toBe(false);
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('turns amounts typed in major units into exact minor units, by the currency exponent (2 for USD, 0 for JPY)', async () => {
    const { context, page, problems } = await newPage(stack.browser);
    try {
      await page.goto(`${stack.url}/dashboard`);
      const cases: [string, string][] = [
        ['25', 'USD'],
        ['0.29', 'USD'], // 0.29 × 100 is 28.999999999999996 in floats
        ['1,000.05', 'USD'],
        ['19.99', 'USD'],
        ['90071992547409.91', 'USD'], // the largest safe integer of cents
        ['90071992547409.92', 'USD'],
        ['12.345', 'USD'],
        ['-5', 'USD'],
        ['1e3', 'USD'],
        ['2500', 'JPY'],
        ['25.5', 'JPY'],
        ['0.5', 'BHD'], // three decimals (fils)
      ];
      // A string, so the test's compiler leaves the dynamic import of the page's own module alone.
      const results = (await page.evaluate(`(async (cases) => {
        const f = await import('/dashboard/format.js');
        return {
          parsed: cases.map(([text, currency]) => [text, currency, f.parseMajor(text, currency)]),
          shown: [
            f.formatMoney({ amountMinor: 2500, currency: 'JPY' }),
            f.formatMoney({ amountMinor: 2500, currency: 'USD' }),
            f.formatMoney({ amountMinor: 500, currency: 'BHD' }),
            f.formatMajorInput({ amountMinor: 3050, currency: 'USD' }),
            f.formatMajorInput({ amountMinor: 2500, currency: 'JPY' }),
          ],
        };
      })(${JSON.stringify(cases)})`)) as { parsed: unknown[]; shown: string[] };
      expect(results.parsed).toEqual([
        ['25', 'USD', { minor: 2500 }],
        ['0.29', 'USD', { minor: 29 }],
        ['1,000.05', 'USD', { minor: 100005 }],
        ['19.99', 'USD', { minor: 1999 }],
        ['90071992547409.91', 'USD', { minor: Number.MAX_SAFE_INTEGER }],
        ['90071992547409.92', 'USD', { error: 'That amount is too large.' }],
        ['12.345', 'USD', { error: 'Enter at most 2 decimal places, such as 25 or 25.50.' }],
        ['-5', 'USD', { error: 'Enter an amount in USD, such as 25 or 25.50.' }],
        ['1e3', 'USD', { error: 'Enter an amount in USD, such as 25 or 25.50.' }],
        ['2500', 'JPY', { minor: 2500 }],
        ['25.5', 'JPY', { error: 'JPY has no minor unit: enter a whole amount, such as 2500.' }],
        ['0.5', 'BHD', { minor: 500 }],
      ]);
      expect(results.shown).toEqual(['¥2,500', '$25.00', 'BHD\u00a00.500', '30.5', '2500']);
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });
});
