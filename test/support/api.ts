/** A real HTTP API on a random port, wired to the harness's PostgreSQL and Temporal, plus a tiny client. */
import type { FastifyInstance } from 'fastify';
import { createApiApp, type ApiServerInput } from '../../src/api/server';
import { TEST_WEBHOOKS, type Harness } from './harness';

/** At least 32 characters, as the API requires of a provisioning token. */
export const PROVISIONING_TOKEN = 'test-provisioning-token-0123456789abcdef';

/**
 * Tests call the API far faster than people do, with one token for a whole file: its rate limits are raised here
 * (test/e2e/api-rate-limit.test.ts checks the limits themselves, with small ones).
 */
export const TEST_RATE_LIMITS = { perMinute: 1_000_000, agentPerMinute: 1_000_000 };

export async function startApi(
  h: Harness,
  taskQueue: string,
  options: Partial<Pick<ApiServerInput, 'rateLimits' | 'auth' | 'logger' | 'webhooks'>> = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createApiApp({
    db: h.db,
    connection: h.connection,
    namespace: h.namespace,
    taskQueue,
    provisioningToken: PROVISIONING_TOKEN,
    plans: h.plans,
    rateLimits: TEST_RATE_LIMITS,
    webhooks: TEST_WEBHOOKS,
    ...options,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are asserted by shape in tests
  body: any;
  headers: Headers;
}

/** `call(method, path, body?)` with the given bearer token (none when `token` is undefined). */
export function apiClient(url: string, token?: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, dashboard)
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export interface ServedApi {
  url: string;
  taskQueue: string;
  /** Close the API and stop the worker. */
  stop(): Promise<void>;
}

/** A worker and an API that stay up for a whole test file (start in beforeAll, `stop()` in afterAll). */
export async function serveApi(h: Harness): Promise<ServedApi> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let served: Promise<void> | undefined;
  const ready = await new Promise<{ url: string; taskQueue: string }>((resolve, reject) => {
    served = h.withWorker(async (taskQueue) => {
      const api = await startApi(h, taskQueue);
      resolve({ url: api.url, taskQueue });
      await released;
      await api.app.close();
    });
    served.catch(reject);
  });
  return {
    ...ready,
    async stop() {
      release();
      await served;
    },
  };
}
