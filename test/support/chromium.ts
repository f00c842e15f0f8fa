/**
 * A headless Chromium for the dashboard's browser tests, driven by playwright-core (no bundled browser:
 * tools/chromium.ts finds or installs the system one and `npm test` passes it as CHROMIUM_PATH).
 *
 * Playwright gives every non-persistent launch a fresh temporary profile (user-data dir) and removes it on
 * close, so runs never share cookies, storage or caches.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Flags for a quiet, offline-friendly headless run (root in a container: no sandbox; no GPU). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumPath(): string {
  const file = process.env.CHROMIUM_PATH;
  if (!file)
    throw new Error(
      'CHROMIUM_PATH is not set: run the browser tests through `npm test` (tools/chromium.ts finds or ' +
        'installs Chromium), or set CHROMIUM_PATH=/usr/bin/chromium',
    );
  return file;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface PageProblems {
  /** Uncaught exceptions and console errors seen in the page. */
  errors: string[];
  /** Requests that failed at the network level or were answered with an HTTP error status. */
  failedRequests: string[];
}

/** A fresh context (its own storage) and page, recording the page's errors for the test to assert on. */
export async function newPage(
  browser: Browser,
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [], failedRequests: [] };
  page.on('pageerror', (err) => problems.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // HTTP errors are reported with their URL by the 'response' handler below.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      problems.errors.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400)
      problems.failedRequests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
  });
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? 'failed';
    // A refresh aborted by sign-out is expected; anything else is a problem.
    if (!/ERR_ABORTED/.test(failure)) problems.failedRequests.push(`${req.method()} ${req.url()}: ${failure}`);
  });
  return { context, page, problems };
}
