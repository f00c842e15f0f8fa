/*
 * Refreshes the page every `intervalMs` while it is visible: nothing is asked while the tab is hidden, a tab that
 * comes back after longer than the interval refreshes at once, and a rate-limited page waits for the server's
 * Retry-After before it asks again.
 */
import { backoffRemaining, requestsInFlight } from './api.js';

export function createPoller({ intervalMs, refresh }) {
  let timer = null;
  let running = false;
  let lastRun = 0;

  const clear = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };

  const schedule = (delay) => {
    clear();
    if (running && !document.hidden) timer = setTimeout(tick, Math.max(delay, backoffRemaining()));
  };

  async function tick() {
    timer = null;
    if (!running || document.hidden) return;
    // A refresh or an action still under way: look again shortly rather than queue behind it.
    if (requestsInFlight() > 0) return schedule(1000);
    lastRun = Date.now();
    try {
      await refresh();
    } finally {
      schedule(intervalMs);
    }
  }

  const onVisibility = () => {
    if (!running) return;
    if (document.hidden) clear();
    else schedule(Math.max(0, lastRun + intervalMs - Date.now()));
  };

  return {
    /** Starts polling; the first refresh is the caller's (it has just refreshed). */
    start() {
      running = true;
      lastRun = Date.now();
      document.addEventListener('visibilitychange', onVisibility);
      schedule(intervalMs);
    },
    stop() {
      running = false;
      clear();
      document.removeEventListener('visibilitychange', onVisibility);
    },
    /** A refresh happened outside the poller (a click): count the interval from now. */
    ran() {
      lastRun = Date.now();
      schedule(intervalMs);
    },
  };
}
