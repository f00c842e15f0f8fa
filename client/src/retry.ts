/**
 * Sending a request again, only when that cannot count anything twice. An attempt that got no answer (timed out, the
 * connection failed) or a 5xx may have been carried out by the API, so it is sent again only when the request is
 * idempotent: by its method, or by the id in its body (a `requestId`, `purchaseId` or `reservationId` the API answers
 * with its first answer). It goes out again with the very same body, hence the same id. A 4xx is never sent again:
 * the same request would get the same answer. A 429 comes back as it is (`CreditsApiError.retryAfterSeconds`), for
 * the caller to decide whether waiting is worth it.
 */
import { CreditsApiError } from './errors';

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  attempts?: number;
  /** How long one attempt may take, answer included, before it is abandoned and, when safe, sent again (default 10 s). */
  timeoutMs?: number;
  /** Wait before the second attempt (default 250 ms), doubled for each next one up to `maxDelayMs` (default 5 s), jittered. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told of each attempt that is about to be sent again, e.g. to log it. */
  onRetry?: (retry: { attempt: number; reason: string; delayMs: number; method: string; url: string }) => void;
}

export type Fetch = (request: Request) => Promise<Response>;

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** POSTs whose body carries the idempotency key of what they create (spec §6, §7, §14). */
const KEYED_POSTS = /\/(?:consumptions|credit-purchases|reservations|reservations\/[^/]+\/settle)$/;

export function isIdempotent(request: Request): boolean {
  return (
    IDEMPOTENT_METHODS.has(request.method) ||
    (request.method === 'POST' && KEYED_POSTS.test(new URL(request.url).pathname))
  );
}

/** Statuses whose answers have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function retryingFetch(send: Fetch, options: RetryOptions = {}, random: () => number = Math.random): Fetch {
  const attempts = Math.max(1, options.attempts ?? 4);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  // Full jitter: clients that failed together do not come back together.
  const backoff = (attempt: number) => random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));

  return async (request) => {
    const caller = request.signal;
    // Read once: every attempt sends these same bytes.
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const resendable = isIdempotent(request);
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      const timeout = AbortSignal.timeout(timeoutMs);
      let answer: Response;
      try {
        const response = await send(
          new Request(request.url, {
            method: request.method,
            headers: request.headers,
            body,
            redirect: request.redirect,
            signal: AbortSignal.any([caller, timeout]),
          }),
        );
        // The body is read within the attempt, so an answer cut off half-way counts as no answer.
        const buffered = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
        answer = new Response(buffered, response);
      } catch (err) {
        if (caller.aborted) throw err;
        const code = timeout.aborted ? 'timeout' : 'connection_failed';
        if (last || !resendable) {
          throw new CreditsApiError({
            status: 0,
            code,
            message: `${request.method} ${new URL(request.url).pathname}: ${
              code === 'timeout' ? `no answer within ${timeoutMs} ms` : 'the connection failed'
            } (attempt ${attempt} of ${resendable ? attempts : 1})`,
            cause: err,
          });
        }
        await pause(backoff(attempt), attempt, code);
        continue;
      }
      if (!last && answer.status >= 500 && resendable) {
        await pause(backoff(attempt), attempt, `http_${answer.status}`);
        continue;
      }
      return answer;
    }

    function pause(delayMs: number, attempt: number, reason: string): Promise<void> {
      options.onRetry?.({ attempt, reason, delayMs, method: request.method, url: request.url });
      return sleep(delayMs, caller);
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
