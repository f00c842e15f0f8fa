/**
 * What the dashboard's browser tests share: the stack they drive (the harness's PostgreSQL and Temporal, a real
 * worker, the API on a random port, a headless Chromium), provisioning a team with member tokens, and the page
 * helpers (sign in, wait for a test id's text, refresh, width checks, screenshots).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { apiClient, issueToken, PROVISIONING_TOKEN, useServedApi, type ServedFile } from './api';
import { launchChromium, type PageProblems } from './chromium';
import { uid } from './harness';

/** How long the page gets to show something the API already answered (the UI polls every 10 s on its own). */
export const UI_TIMEOUT = 10_000;

const SCREENSHOTS_DIR = path.resolve(
  __dirname,
  '../..',
  process.env.SCREENSHOTS_DIR ?? path.join('.data', 'test', 'screenshots'),
);

export interface DashboardStack extends ServedFile {
  readonly browser: Browser;
}

/**
 * `useServedApi()` and a headless Chromium for a browser test file: Chromium is launched while the rest starts, and
 * closed first.
 */
export function useDashboardStack(): DashboardStack {
  let launching: Promise<Browser> | undefined;
  let browser: Browser | undefined;
  beforeAll(() => {
    launching = launchChromium();
    launching.catch(() => undefined); // awaited below; don't report it as unhandled meanwhile
  });
  afterAll(async () => {
    await (await launching?.catch(() => undefined))?.close();
  });
  const served = useServedApi();
  beforeAll(async () => {
    browser = await launching;
  });
  // What useServedApi gives, and the browser.
  return Object.create(served, {
    browser: {
      get() {
        if (!browser) throw new Error('useDashboardStack: Chromium is not up (read it in tests and hooks only)');
        return browser;
      },
    },
  }) as DashboardStack;
}

/** A team on the basic plan with the members given, each with a member token (`tokens[userId]`). */
export async function provisionTeam(
  url: string,
  members: { userId: string; roles: string[] }[],
  team: { billingAnchorDay?: number; paygThresholdMinor?: number } = {},
) {
  const p = apiClient(url, PROVISIONING_TOKEN);
  const teamId = uid('team');
  const created = await p('POST', '/v1/teams', { teamId, plan: 'basic', billingAnchorDay: 1, ...team });
  expect(created.status).toBe(201);
  const tokens: Record<string, string> = {};
  for (const m of members) {
    const put = await p('PUT', `/v1/teams/${teamId}/members/${m.userId}`, {
      email: `${m.userId}@example.com`,
      roles: m.roles,
    });
    expect(put.status).toBe(200);
    tokens[m.userId] = await issueToken(url, { teamId, userId: m.userId });
  }
  return { teamId, tokens };
}

export async function signIn(page: Page, token: string, userId: string) {
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('sign-in').click();
  await expectText(page, 'whoami', new RegExp(`^${userId} · `));
  // The first refresh has rendered once the loading states are gone.
  await page.getByTestId('last-updated').filter({ hasText: 'Updated' }).waitFor({ timeout: UI_TIMEOUT });
}

/** Waits until the element's text matches, then returns it; fails with what the page showed instead. */
export async function expectText(page: Page, testId: string, expected: string | RegExp, timeout = UI_TIMEOUT) {
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
export async function clickRefresh(page: Page) {
  await page.getByTestId('refresh').click();
  await page.waitForFunction(() => document.getElementById('refresh')?.getAttribute('aria-disabled') === 'false');
}

/** Clicks Refresh until `check` passes (the API may take a moment to show what activities write). */
export async function refreshUntil(page: Page, check: () => Promise<boolean>, what: string, timeout = 15_000) {
  const until = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for the page to show ${what}`);
    await clickRefresh(page);
    await page.waitForTimeout(250);
  }
}

/** The page fits the viewport's width (1280 px and a phone's 390 px): no horizontal scrolling. */
export async function expectNoHorizontalOverflow(page: Page) {
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

/** The whole page at its width, to $SCREENSHOTS_DIR (default .data/test/screenshots/; `docs` refreshes docs/). */
export async function screenshot(page: Page, file: string) {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // Let the meter's width transition (0.3 s) finish so the bars are drawn at their final size.
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(SCREENSHOTS_DIR, file), animations: 'disabled', fullPage: true });
}

export function expectNoPageProblems(problems: PageProblems) {
  expect(problems.errors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
}
