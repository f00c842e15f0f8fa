/*
 * The one way the page talks to the API (spec §12): same origin, the session's bearer token, JSON in and out, the
 * contract's error body turned into an ApiError. A 429 is waited out as its Retry-After says, for every request of
 * the page at once (one shared pause), then retried: a refused request was not applied, so retrying is safe.
 */
import { session } from './state.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const isAbort = (err) => !!err && err.name === 'AbortError';
/** The request may have been applied (network failure, timeout, server error): retry with the same key. */
export const isUncertain = (err) => err instanceof ApiError && (err.status === 0 || err.status >= 500);

/** Retry-After beyond this is reported rather than waited out inside one request. */
const MAX_WAIT_MS = 30_000;
const MAX_ATTEMPTS = 4;
/** When the server sends 429 without a usable Retry-After. */
const DEFAULT_RETRY_MS = 2_000;

let pausedUntil = 0;
let inFlight = 0;

/** Milliseconds until the server's last Retry-After has passed (0: not rate limited). */
export const backoffRemaining = () => Math.max(0, pausedUntil - Date.now());
/** Requests under way: the poller does not pile a refresh on top of them. */
export const requestsInFlight = () => inFlight;

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3) → milliseconds, or null. */
export function retryAfterMs(header, now = Date.now()) {
  if (!header) return null;
  const value = header.trim();
  if (/^[0-9]+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `api('GET', path)` → { status, data }; throws ApiError (status 0: the service was not reached) or AbortError. */
export async function api(method, path, body) {
  const signal = session.abort.signal;
  const headers = { Accept: 'application/json', Authorization: 'Bearer ' + session.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  inFlight += 1;
  try {
    for (let attempt = 1; ; attempt++) {
      const wait = backoffRemaining();
      if (wait > 0) await sleep(wait, signal);
      let res;
      try {
        res = await fetch(path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: 'same-origin',
          cache: 'no-store',
          signal,
        });
      } catch (err) {
        if (isAbort(err) || signal.aborted) throw err;
        throw new ApiError(
          0,
          'network',
          'Could not reach the AI credits service. Check your connection and try again.',
        );
      }
      if (res.status === 429) {
        const delay = retryAfterMs(res.headers.get('Retry-After')) ?? DEFAULT_RETRY_MS;
        pausedUntil = Math.max(pausedUntil, Date.now() + delay);
        if (attempt < MAX_ATTEMPTS && delay <= MAX_WAIT_MS) continue;
        throw new ApiError(
          429,
          'rate_limited',
          'The service is busy with this token’s requests; the page tries again in ' + Math.ceil(delay / 1000) + ' s.',
        );
      }
      return await readAnswer(res);
    }
  } finally {
    inFlight -= 1;
  }
}

async function readAnswer(res) {
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = null;
    }
  }
  if (!res.ok) {
    const e = data && data.error;
    const message =
      e && typeof e.message === 'string' && e.message
        ? e.message
        : 'The request failed (HTTP ' + res.status + '). Try again.';
    throw new ApiError(res.status, (e && e.code) || 'http_' + res.status, message);
  }
  if (data === null) throw new ApiError(res.status, 'bad_response', 'The service sent an unreadable answer.');
  return { status: res.status, data };
}

const enc = encodeURIComponent;
export const teamPath = (me) => '/v1/teams/' + enc(me.teamId);
export const memberPath = (me, userId) => teamPath(me) + '/members/' + enc(userId);

/** GET /v1/me, checked: who is signed in. */
export async function fetchMe() {
  const { data } = await api('GET', '/v1/me');
  if (!data || typeof data.teamId !== 'string' || typeof data.userId !== 'string') {
    throw new ApiError(200, 'bad_response', 'The service did not say who is signed in.');
  }
  return { teamId: data.teamId, userId: data.userId, roles: Array.isArray(data.roles) ? data.roles.map(String) : [] };
}
