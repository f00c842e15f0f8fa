/**
 * A real HTTP API on a random port, wired to the harness's PostgreSQL and Temporal, a tiny client, and the setup
 * every e2e file shares (`useServedApi`).
 */
import type { FastifyInstance } from 'fastify';
import { createApiApp, type ApiServerInput } from '../../src/api/server';
import { createHarness, TEST_WEBHOOKS, uid, type Harness } from './harness';

/** At least 32 characters, as the API requires of a provisioning token. */
export const PROVISIONING_TOKEN = 'test-provisioning-token-0123456789abcdef';

/**
 * Tests call the API far faster than people do, with one token for a whole file: its rate limits are raised here
 * (test/e2e/api-rate-limit.test.ts checks the limits themselves, with small ones).
 */
export const TEST_RATE_LIMITS = { perMinute: 1_000_000, agentPerMinute: 1_000_000 };

export type StartApiOptions = Partial<Pick<ApiServerInput, 'rateLimits' | 'auth' | 'logger' | 'webhooks'>>;

export async function startApi(
  h: Harness,
  taskQueue: string,
  options: StartApiOptions = {},
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

export type ApiCall = ReturnType<typeof apiClient>;

/** A token issued by POST /v1/tokens with the provisioning token (which must answer 201). */
export async function issueToken(url: string, body: Record<string, string>): Promise<string> {
  const res = await apiClient(url, PROVISIONING_TOKEN)('POST', '/v1/tokens', body);
  expect(res.status).toBe(201);
  return res.body.token as string;
}

interface ServedApi {
  url: string;
  taskQueue: string;
  /** Close the API and stop the worker. */
  stop(): Promise<void>;
}

export interface ServeOptions extends StartApiOptions {
  /** `false`: no worker, for routes that read PostgreSQL only (the task queue is one nobody polls). */
  worker?: boolean;
}

/** A worker and an API that stay up for a whole test file (start in beforeAll, `stop()` in afterAll). */
async function serveApi(h: Harness, { worker = true, ...options }: ServeOptions = {}): Promise<ServedApi> {
  if (!worker) {
    const taskQueue = uid('queue');
    const api = await startApi(h, taskQueue, options);
    return { url: api.url, taskQueue, stop: () => api.app.close() };
  }
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let served: Promise<void> | undefined;
  const ready = await new Promise<{ url: string; taskQueue: string }>((resolve, reject) => {
    served = h.withWorker(async (taskQueue) => {
      const api = await startApi(h, taskQueue, options);
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

/** What `useServedApi()` gives a test file: read it in tests and hooks, not at the file's top level. */
export interface ServedFile {
  /** The harness the API and the worker run on (PostgreSQL, Temporal, SMTP). */
  readonly h: Harness;
  readonly url: string;
  /** The worker's task queue (with `worker: false`, one that no worker polls). */
  readonly taskQueue: string;
  /** A client of the API with the given bearer token (none when undefined). */
  client(token?: string): ApiCall;
  /** A client of the API with the provisioning token. */
  prov(): ApiCall;
  /** A token issued through the API (`issueToken`). */
  token(body: Record<string, string>): Promise<string>;
}

/**
 * The setup of an e2e test file: before its tests, the harness, a worker (unless `worker: false`) and the API on a
 * random port; after them, all closed again. Call it at the top of the file; hooks declared after it run after it.
 */
export function useServedApi(options: ServeOptions = {}): ServedFile {
  let h: Harness | undefined;
  let served: ServedApi | undefined;
  beforeAll(async () => {
    h = await createHarness();
    served = await serveApi(h, options);
  });
  afterAll(async () => {
    await served?.stop();
    await h?.close();
  });
  const ready = () => {
    if (!h || !served) throw new Error('useServedApi: the API is not up (read it in tests and hooks only)');
    return { h, served };
  };
  const client = (token?: string) => apiClient(ready().served.url, token);
  return {
    get h() {
      return ready().h;
    },
    get url() {
      return ready().served.url;
    },
    get taskQueue() {
      return ready().served.taskQueue;
    },
    client,
    prov: () => client(PROVISIONING_TOKEN),
    token: (body) => issueToken(ready().served.url, body),
  };
}
