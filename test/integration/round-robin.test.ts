/**
 * The round-robin in front of the API instances of `npm run cluster` (tools/round-robin.ts), over real HTTP on
 * loopback: requests alternate between instances with method, path, headers and body intact; an instance that
 * refuses connections is skipped, so nothing is sent to it and the request is answered by the other; an instance
 * that drops a request it accepted gives a 502, which the client retries with its id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRoundRobin, type RoundRobin } from '../../tools/round-robin';

interface Backend {
  url: string;
  seen: string[];
  close(): Promise<void>;
}

async function backend(name: string, behaviour: 'answer' | 'drop' = 'answer'): Promise<Backend> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'} ${body}`);
      if (behaviour === 'drop') return req.socket.destroy();
      res.writeHead(201, { 'content-type': 'application/json', 'x-instance': name });
      res.end(JSON.stringify({ instance: name, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A port nothing listens on: a server bound and closed. */
async function refusingUrl(): Promise<string> {
  const b = await backend('gone');
  await b.close();
  return b.url;
}

const post = (rr: RoundRobin, path: string, body: string) =>
  fetch(`${rr.url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    body,
  });

test('requests alternate between instances, intact', async () => {
  const [a, b] = await Promise.all([backend('a'), backend('b')]);
  const rr = await startRoundRobin([a.url, b.url], 0);
  try {
    const answered: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await post(rr, `/v1/x?i=${i}`, `{"n":${i}}`);
      expect(res.status).toBe(201);
      const json = (await res.json()) as { instance: string; body: string };
      expect(json.body).toBe(`{"n":${i}}`);
      answered.push(json.instance);
    }
    expect(answered).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(a.seen).toEqual([0, 2, 4].map((i) => `POST /v1/x?i=${i} Bearer t {"n":${i}}`));
    expect(b.seen).toEqual([1, 3, 5].map((i) => `POST /v1/x?i=${i} Bearer t {"n":${i}}`));
  } finally {
    await rr.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('an instance that refuses connections is skipped; one that drops a request gives 502', async () => {
  const a = await backend('a');
  const dropping = await backend('dropping', 'drop');
  const rr = await startRoundRobin([await refusingUrl(), a.url], 0);
  // Another instance behind it: a dropped request must not be sent on to it either.
  const rr2 = await startRoundRobin([dropping.url, a.url], 0);
  try {
    for (let i = 0; i < 4; i++) {
      const res = await post(rr, '/v1/y', `${i}`);
      expect(res.status).toBe(201);
      expect(((await res.json()) as { instance: string }).instance).toBe('a');
    }
    expect(a.seen).toHaveLength(4);
    const dropped = await post(rr2, '/v1/z', 'once');
    expect(dropped.status).toBe(502);
    // It reached the instance once: a dropped request is not sent again by the round-robin.
    expect(dropping.seen).toEqual(['POST /v1/z Bearer t once']);
    expect(a.seen).toHaveLength(4);
  } finally {
    await rr.close();
    await rr2.close();
    await Promise.all([a.close(), dropping.close()]);
  }
});
