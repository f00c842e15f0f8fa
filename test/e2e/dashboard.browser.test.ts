/**
 * The dashboard in a real browser (headless Chromium through playwright-core) against the real API, a real
 * worker and the Temporal dev server: sign in with member tokens, watch usage move, turn PAYG off for a member
 * from the page and see the agent refused, and see what a plain member sees.
 *
 * Screenshots of the billing and member views (1280×800) go to $SCREENSHOTS_DIR, by default
 * .data/test/screenshots/; `SCREENSHOTS_DIR=docs` refreshes docs/dashboard.png and docs/dashboard-member.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { apiClient, PROVISIONING_TOKEN, startApi } from '../support/api';
import { launchChromium, newPage, type PageProblems } from '../support/chromium';
import { createHarness, uid, type Harness } from '../support/harness';

const SCREENSHOTS_DIR = path.resolve(
  __dirname,
  '../..',
  process.env.SCREENSHOTS_DIR ?? path.join('.data', 'test', 'screenshots'),
);
/** How long the page gets to show something the API already answered (the UI polls every 10 s on its own). */
const UI_TIMEOUT = 10_000;

let h: Harness;
let browser: Browser;
let app: FastifyInstance;
let url: string;
let stopWorker: () => void = () => undefined;
let workerDone: Promise<void> = Promise.resolve();

beforeAll(async () => {
  const launching = launchChromium();
  launching.catch(() => undefined); // awaited below; don't report it as unhandled meanwhile
  h = await createHarness();
  const ready = new Promise<string>((resolve, reject) => {
    const stopped = new Promise<void>((resolveStop) => (stopWorker = resolveStop));
    workerDone = h.withWorker(async (taskQueue) => {
      resolve(taskQueue);
      await stopped;
    });
    workerDone.catch(reject);
  });
  ({ app, url } = await startApi(h, await ready));
  browser = await launching;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  stopWorker();
  await workerDone.catch(() => undefined);
  await h?.close();
});

const prov = () => apiClient(url, PROVISIONING_TOKEN);

async function provisionTeam(members: { userId: string; roles: string[] }[]) {
  const p = prov();
  const teamId = uid('team');
  const created = await p('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1 });
  expect(created.status).toBe(201);
  const tokens: Record<string, string> = {};
  for (const m of members) {
    const put = await p('PUT', `/v1/teams/${teamId}/members/${m.userId}`, {
      email: `${m.userId}@example.com`,
      roles: m.roles,
    });
    expect(put.status).toBe(200);
    const token = await p('POST', '/v1/tokens', { teamId, userId: m.userId });
    expect(token.status).toBe(201);
    tokens[m.userId] = token.body.token as string;
  }
  return { teamId, tokens };
}

async function signIn(page: Page, token: string, userId: string) {
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('sign-in').click();
  await expectText(page, 'whoami', new RegExp(`^${userId} · `));
  // The first refresh has rendered once the loading states are gone.
  await page.getByTestId('last-updated').filter({ hasText: 'Updated' }).waitFor({ timeout: UI_TIMEOUT });
}

/** Waits until the element's text matches, then returns it; fails with what the page showed instead. */
async function expectText(page: Page, testId: string, expected: string | RegExp, timeout = UI_TIMEOUT) {
  const el = page.getByTestId(testId);
  const until = Date.now() + timeout;
  let last = '';
  for (;;) {
    last = (await el.textContent({ timeout: Math.max(1, until - Date.now()) }).catch(() => null)) ?? '<absent>';
    if (typeof expected === 'string' ? last === expected : expected.test(last)) return last;
    if (Date.now() > until) throw new Error(`[data-testid=${testId}] shows "${last}", expected ${String(expected)}`);
    await page.waitForTimeout(100);
  }
}

/** Clicks Refresh and waits for that refresh to finish. */
async function clickRefresh(page: Page) {
  await page.getByTestId('refresh').click();
  await page.waitForFunction(() => document.getElementById('refresh')?.getAttribute('aria-disabled') === 'false');
}

/** Clicks Refresh until `check` passes (the API may take a moment to show what activities write). */
async function refreshUntil(page: Page, check: () => Promise<boolean>, what: string, timeout = 15_000) {
  const until = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for the page to show ${what}`);
    await clickRefresh(page);
    await page.waitForTimeout(250);
  }
}

/** The page fits the viewport's width (1280 px and a phone's 390 px): no horizontal scrolling. */
async function expectNoHorizontalOverflow(page: Page) {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  try {
    for (const width of [size.width, 390]) {
      await page.setViewportSize({ width, height: size.height });
      await expectFitsWidth(page, width);
    }
  } finally {
    await page.setViewportSize(size);
  }
}

async function expectFitsWidth(page: Page, width: number) {
  const overflow = await page.evaluate(() => {
    const root = document.documentElement;
    const wide = Array.from(document.querySelectorAll<HTMLElement>('body *'))
      .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().right > root.clientWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 5) };
  });
  expect({ width, ...overflow }).toEqual({
    width,
    scrollWidth: overflow.clientWidth,
    clientWidth: overflow.clientWidth,
    wide: [],
  });
}

async function screenshot(page: Page, file: string) {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // Let the meter's width transition (0.3 s) finish so the bars are drawn at their final size.
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, file), animations: 'disabled' });
}

function expectNoPageProblems(problems: PageProblems) {
  expect(problems.errors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
}

describe('dashboard in a browser', () => {
  it('shows a team with only its billing user as that one member, with no alerts', async () => {
    const { tokens } = await provisionTeam([{ userId: 'solo', roles: ['billing'] }]);
    const { context, page, problems } = await newPage(browser);
    try {
      await page.goto(`${url}/dashboard`);
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
      expect(await page.getByTestId('error-banner').isVisible()).toBe(false);
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
    const agent = apiClient(url, agentToken);
    const consume = (userId: string, credits: string) =>
      agent('POST', `/v1/teams/${teamId}/members/${userId}/consumptions`, {
        requestId: uid('req'),
        action: 'generate_request',
        credits,
      });

    const { context, page, problems } = await newPage(browser);
    try {
      // ---- Billing signs in: every member, nothing used yet ----
      await page.goto(`${url}/dashboard`);
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
      const credits = await apiClient(url, tokens.bea)('GET', `/v1/teams/${teamId}/members/max/credits`);
      expect(credits.body.balance).toMatchObject({ paygEnabled: false, paused: true, paygCredits: '0' });

      // Still paused after a refresh from the server (not just the optimistic answer).
      await clickRefresh(page);
      expect(await page.getByTestId('paused-max').isVisible()).toBe(true);
      // The summary line is recomputed by a refresh only (a toggle updates just its row).
      await expectText(page, 'team-summary', 'Basic plan · 3 members · 1 paused · PAYG charges this period $0.00');
      await expectNoHorizontalOverflow(page);
      await screenshot(page, 'dashboard.png');

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
          return kinds.includes('member_75') && kinds.includes('member_100');
        },
        'the 75 % and 100 % alerts',
      );
      const kinds = await alertKinds();
      expect(kinds.sort()).toEqual(['member_100', 'member_75']);
      const alertsText = await page.getByTestId('alerts-list').innerText();
      expect(alertsText).toMatch(/You've used 75% of your AI credits for this period \(300 of 400 credits\)/);
      expect(alertsText).toMatch(/You've used 100% of your AI credits \(400 of 400 credits\)/);
      expect(await page.getByTestId('alerts-empty').isVisible()).toBe(false);
      await expectText(page, 'notices-max', '75% reached, 100% reached');
      await expectNoHorizontalOverflow(page);
      await screenshot(page, 'dashboard-member.png');

      // Another member's data is out of reach for max's token.
      const other = await apiClient(url, tokens.max)('GET', `/v1/teams/${teamId}/members/ada/credits`);
      expect(other.status).toBe(403);
      expectNoPageProblems(problems);
    } finally {
      await context.close();
    }
  });
});
