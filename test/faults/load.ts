/**
 * The agent side of the fault suite: an HTTP client that retries after timeouts, dropped connections and 5xx with
 * the same body (so the same requestId), and remembers the first definitive answer to every request.
 */
import { parseCredits } from '../../workflows/domain/credits';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Charged {
  allowance: number;
  purchased: number;
  payg: number;
}

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked by shape
  body: any;
}

export class RetryingClient {
  attempts = 0;
  retries = 0;
  timeouts = 0;
  networkErrors = 0;
  serverErrors = 0;

  constructor(
    private readonly baseUrl: () => string,
    private readonly deadlineMs: number,
  ) {}

  /**
   * Sends until a definitive answer (any status below 500) arrives or the deadline passes (undefined then).
   * Each attempt times out after 1.5–4 s, short enough that the first attempt is often still in flight.
   */
  async send(method: string, path: string, token: string, body?: unknown): Promise<Answer | undefined> {
    const until = Date.now() + this.deadlineMs;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        this.retries++;
        await sleep(Math.min(2000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
      }
      if (Date.now() > until) return undefined;
      this.attempts++;
      try {
        const res = await fetch(`${this.baseUrl()}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(1500 + Math.floor(Math.random() * 2500)),
        });
        const text = await res.text();
        if (res.status >= 500) {
          this.serverErrors++;
          continue;
        }
        return { status: res.status, body: text ? JSON.parse(text) : null };
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') this.timeouts++;
        else this.networkErrors++;
      }
    }
  }
}

/** The charged split of a consumption answer, in millicredits. */
export function chargedOf(body: { charged?: { allowance: string; purchased: string; payg: string } }): Charged {
  const c = body.charged;
  if (!c) return { allowance: 0, purchased: 0, payg: 0 };
  return { allowance: parseCredits(c.allowance), purchased: parseCredits(c.purchased), payg: parseCredits(c.payg) };
}

export function sameCharge(a: Charged, b: Charged): boolean {
  return a.allowance === b.allowance && a.purchased === b.purchased && a.payg === b.payg;
}
