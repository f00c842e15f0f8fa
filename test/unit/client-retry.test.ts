/**
 * The client's retry policy (client/src/retry.ts) on a fake network, for what the end-to-end test cannot time:
 * the backoff's growth, cap and jitter, a caller's cancellation, and which requests are never sent twice.
 * test/e2e/client.test.ts proves the same ids reach the real API.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreditsApiError, isIdempotent, retryingFetch, type RetryOptions } from '../../client/src';

type Reply = number | 'fail' | { status: number; headers: Record<string, string> };

/** A network that answers each attempt in turn, and records what was sent. */
function network(...replies: Reply[]) {
  const sent: { method: string; url: string; body: string }[] = [];
  const send = async (request: Request) => {
    sent.push({ method: request.method, url: request.url, body: await request.text() });
    const reply = replies.shift() ?? 200;
    if (reply === 'fail') throw new TypeError('fetch failed');
    const { status, headers } = typeof reply === 'number' ? { status: reply, headers: {} } : reply;
    return new Response(JSON.stringify({ status }), { status, headers });
  };
  return { sent, send };
}

const API = 'http://api.test/v1/teams/t/members/u';
const post = (url: string, body: unknown, init: RequestInit = {}) =>
  new Request(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    ...init,
  });

function retrying(net: ReturnType<typeof network>, options: RetryOptions = {}, random = () => 1) {
  const delays: number[] = [];
  const reasons: string[] = [];
  const fetch = retryingFetch(
    net.send,
    {
      baseDelayMs: 10,
      maxDelayMs: 25,
      ...options,
      onRetry: (r) => {
        delays.push(r.delayMs);
        reasons.push(r.reason);
      },
    },
    random,
  );
  return { fetch, delays, reasons };
}

describe('retryingFetch', () => {
  it('sends a keyed POST again with the same bytes after no answer and a 5xx, backing off exponentially up to a cap', async () => {
    const net = network('fail', 503, 'fail', 200);
    const { fetch, delays, reasons } = retrying(net, { attempts: 4 });
    const res = await fetch(post(`${API}/consumptions`, { requestId: 'r-1', action: 'chat', credits: '1.5' }));
    expect(res.status).toBe(200);
    expect(reasons).toEqual(['connection_failed', 'http_503', 'connection_failed']);
    expect(delays).toEqual([10, 20, 25]);
    expect(new Set(net.sent.map((s) => s.body))).toEqual(
      new Set(['{"requestId":"r-1","action":"chat","credits":"1.5"}']),
    );
  });

  it('jitters the backoff over the whole interval', async () => {
    const { fetch, delays } = retrying(network(503, 503, 200), {}, () => 0.5);
    await fetch(new Request(`${API}/credits`));
    expect(delays).toEqual([5, 10]);
  });

  it('gives up after the last attempt: the 5xx answer, or a typed error when none came', async () => {
    const answered = retrying(network(503, 502, 500), { attempts: 3 });
    expect((await answered.fetch(new Request(`${API}/credits`))).status).toBe(500);
    const silent = network('fail', 'fail');
    const err = await retrying(silent, { attempts: 2 })
      .fetch(new Request(`${API}/payg`, { method: 'PUT', body: '{"enabled":true}' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditsApiError);
    expect(err).toMatchObject({ status: 0, code: 'connection_failed', retryable: true });
    expect(silent.sent).toHaveLength(2);
  });

  it('abandons an attempt at its timeout and sends it again', async () => {
    let calls = 0;
    const fetch = retryingFetch(
      (request) => {
        calls++;
        if (calls > 1) return Promise.resolve(new Response('{}'));
        return new Promise((_resolve, reject) =>
          request.signal.addEventListener('abort', () => reject(request.signal.reason)),
        );
      },
      { timeoutMs: 50, baseDelayMs: 1 },
    );
    expect((await fetch(new Request(`${API}/credits`))).status).toBe(200);
    expect(calls).toBe(2);
  });

  it('never sends a 4xx again, except a 429 after its Retry-After (seconds or a date) within the cap', async () => {
    for (const status of [400, 401, 402, 403, 404, 409, 413, 422]) {
      const net = network(status);
      expect((await retrying(net).fetch(post(`${API}/consumptions`, {}))).status).toBe(status);
      expect(net.sent).toHaveLength(1);
    }
    const at = new Date(Date.now() + 1_000).toUTCString();
    const limited = network(
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': at } },
      200,
    );
    const { fetch, delays } = retrying(limited, {}, () => 0);
    const started = Date.now();
    expect((await fetch(post('http://api.test/v1/tokens', {}))).status).toBe(200);
    expect(limited.sent).toHaveLength(3);
    expect(delays[0]).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(delays[1]);
    expect(delays[1]).toBeGreaterThan(0);

    const tooLong = network({ status: 429, headers: { 'retry-after': '120' } });
    expect((await retrying(tooLong).fetch(new Request(`${API}/credits`))).status).toBe(429);
    expect(tooLong.sent).toHaveLength(1);
  });

  it('sends a POST without an idempotency key once, whatever happened to it', async () => {
    for (const reply of ['fail', 503] as const) {
      const net = network(reply, 200);
      const result = await retrying(net)
        .fetch(post('http://api.test/v1/tokens', { service: 'agent', scope: 'global' }))
        .then(
          (r) => r.status,
          (e: unknown) => (e as CreditsApiError).code,
        );
      expect(result).toBe(reply === 'fail' ? 'connection_failed' : 503);
      expect(net.sent).toHaveLength(1);
    }
  });

  it('stops at once when the caller aborts, also while waiting to retry', async () => {
    const controller = new AbortController();
    const net = network(503, 200);
    const fetch = retryingFetch(net.send, { baseDelayMs: 10_000, maxDelayMs: 10_000 }, () => 1);
    const pending = fetch(new Request(`${API}/credits`, { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    await expect(pending).rejects.toThrow('caller gave up');
    expect(net.sent).toHaveLength(1);
  });
});

describe('isIdempotent', () => {
  it.each([
    ['GET', '/v1/teams/t/usage', true],
    ['PUT', '/v1/teams/t/members/u/payg', true],
    ['DELETE', '/v1/teams/t/members/u/reservations/r', true],
    ['POST', '/v1/teams/t/members/u/consumptions', true],
    ['POST', '/v1/teams/t/members/u/credit-purchases', true],
    ['POST', '/v1/teams/t/members/u/reservations', true],
    ['POST', '/v1/teams/t/members/u/reservations/r/settle', true],
    ['POST', '/v1/teams', false],
    ['POST', '/v1/tokens', false],
    ['PATCH', '/v1/teams/t', false],
  ])('%s %s: %s', (method, pathname, expected) => {
    expect(isIdempotent(new Request(`http://api.test${pathname}`, { method }))).toBe(expected);
  });
});

it('the client declares the openapi-fetch it is built and tested with', () => {
  const read = (file: string) => JSON.parse(readFileSync(path.join(__dirname, '..', '..', file), 'utf8'));
  expect(read('client/package.json').dependencies['openapi-fetch']).toBe(
    read('node_modules/openapi-fetch/package.json').version,
  );
});
