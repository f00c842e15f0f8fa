/**
 * The client's retry policy (client/src/retry.ts) through the real fetch, against a loopback server that answers
 * each attempt as scripted: the backoff's growth, cap and jitter, a caller's cancellation, and which requests are
 * never sent twice. test/e2e/client.test.ts proves the same ids reach the real API and count once.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreditsApiError, isIdempotent, retryingFetch, type RetryOptions } from '../../client/src';

/** A status to answer, the connection dropped once the request is read, or no answer at all. */
type Reply = number | 'drop' | 'hang';

/** A loopback HTTP server answering each request with the next scripted reply (200 once they run out). */
class ScriptedServer {
  readonly received: { method: string; url: string; body: string }[] = [];
  private replies: Reply[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
      const reply = this.replies.shift() ?? 200;
      if (reply === 'drop') return req.socket.destroy();
      if (reply === 'hang') return;
      res.writeHead(reply, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: reply }));
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(...replies: Reply[]): this {
    this.received.length = 0;
    this.replies = replies;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const server = new ScriptedServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

const member = () => `${server.url}/v1/teams/t/members/u`;
const post = (url: string, body: unknown) =>
  new Request(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** The real fetch behind the retry policy, with quick backoff; `random` fixes the jitter. */
function retrying(options: RetryOptions = {}, random = () => 1) {
  const delays: number[] = [];
  const reasons: string[] = [];
  const fetch = retryingFetch(
    (request) => globalThis.fetch(request),
    {
      baseDelayMs: 10,
      maxDelayMs: 25,
      ...options,
      onRetry: (r) => {
        delays.push(r.delayMs);
        reasons.push(r.reason);
        options.onRetry?.(r);
      },
    },
    random,
  );
  return { fetch, delays, reasons };
}

const outcome = (p: Promise<Response>) =>
  p.then(
    (r) => r.status,
    (e: unknown) => (e instanceof CreditsApiError ? e.code : e),
  );

describe('retryingFetch', () => {
  it('sends a keyed POST again with the same bytes after no answer and a 5xx, backing off exponentially up to a cap', async () => {
    server.script('drop', 503, 'drop', 200);
    const { fetch, delays, reasons } = retrying({ attempts: 4 });
    const res = await fetch(post(`${member()}/consumptions`, { requestId: 'r-1', action: 'chat', credits: '1.5' }));
    expect(res.status).toBe(200);
    expect(reasons).toEqual(['connection_failed', 'http_503', 'connection_failed']);
    expect(delays).toEqual([10, 20, 25]);
    expect(server.received.map((r) => r.body)).toEqual(
      Array(4).fill('{"requestId":"r-1","action":"chat","credits":"1.5"}'),
    );
  });

  it('jitters the backoff over the whole interval', async () => {
    server.script(503, 503, 200);
    const { fetch, delays } = retrying({}, () => 0.5);
    expect((await fetch(new Request(`${member()}/credits`))).status).toBe(200);
    expect(delays).toEqual([5, 10]);
  });

  it('gives up after the last attempt: the 5xx answer, or a typed error when none came', async () => {
    server.script(503, 502, 500);
    expect((await retrying({ attempts: 3 }).fetch(new Request(`${member()}/credits`))).status).toBe(500);
    expect(server.received).toHaveLength(3);

    server.script('drop', 'drop');
    const put = new Request(`${member()}/payg`, { method: 'PUT', body: '{"enabled":true}' });
    const err = await retrying({ attempts: 2 })
      .fetch(put)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CreditsApiError);
    expect(err).toMatchObject({ status: 0, code: 'connection_failed', retryable: true });
    expect(server.received.map((r) => r.body)).toEqual(['{"enabled":true}', '{"enabled":true}']);
  });

  it('abandons an attempt that gets no answer within its timeout and sends it again', async () => {
    server.script('hang');
    const { fetch, reasons } = retrying({ timeoutMs: 1_000 });
    expect((await fetch(post(`${member()}/reservations`, { reservationId: 'res-1' }))).status).toBe(200);
    // The first attempt never gets an answer; a later one could time out too only on a machine slower than 1 s.
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    expect(new Set(reasons)).toEqual(new Set(['timeout']));
    expect(server.received).toHaveLength(reasons.length + 1);
    expect(new Set(server.received.map((r) => r.body))).toEqual(new Set(['{"reservationId":"res-1"}']));
  });

  it('never sends a 4xx again, 429 included: the answer is the caller’s', async () => {
    for (const status of [400, 401, 402, 403, 404, 409, 413, 422, 429]) {
      server.script(status, 200);
      const { fetch, reasons } = retrying();
      expect((await fetch(post(`${member()}/consumptions`, { requestId: 'r-2' }))).status).toBe(status);
      expect({ status, sent: server.received.length, reasons }).toEqual({ status, sent: 1, reasons: [] });
    }
  });

  it('sends a POST without an idempotency key once, whatever happened to it', async () => {
    for (const reply of ['drop', 503] as const) {
      server.script(reply, 201);
      const { fetch } = retrying();
      const result = await outcome(fetch(post(`${server.url}/v1/tokens`, { service: 'agent', scope: 'global' })));
      expect(result).toBe(reply === 'drop' ? 'connection_failed' : 503);
      expect(server.received).toHaveLength(1);
    }
  });

  it('stops at once when the caller aborts while waiting to retry', async () => {
    server.script(503, 200);
    const controller = new AbortController();
    const { fetch } = retrying({
      baseDelayMs: 600_000,
      maxDelayMs: 600_000,
      onRetry: () => controller.abort(new Error('caller gave up')),
    });
    await expect(fetch(new Request(`${member()}/credits`, { signal: controller.signal }))).rejects.toThrow(
      'caller gave up',
    );
    expect(server.received).toHaveLength(1);
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
