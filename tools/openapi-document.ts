/**
 * The OpenAPI document the API serves at /openapi.json, without PostgreSQL or Temporal: the routes hand their schemas
 * to @fastify/swagger when the app is built, and this app never serves a request, so each dependency throws if
 * anything touches it.
 */
import { buildApp, type AppDeps } from '../src/api/app';
import { DEFAULT_WEBHOOK_RETRY } from '../workflows/webhook-delivery/types';

function untouchable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, prop) => {
      throw new Error(`${name}.${String(prop)} used while building the OpenAPI document: no request is served here`);
    },
  });
}

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const deps: AppDeps = {
    teams: untouchable('teams'),
    tokens: untouchable('tokens'),
    audit: untouchable('audit'),
    transaction: () => Promise.reject(new Error('no transaction while building the OpenAPI document')),
    ledger: untouchable('ledger'),
    invoices: untouchable('invoices'),
    notifications: untouchable('notifications'),
    usageHistory: untouchable('usageHistory'),
    plans: untouchable('plans'),
    credits: untouchable('credits'),
    webhooks: untouchable('webhooks'),
    webhookSettings: { allowPrivate: false, timeoutMs: 5_000, retry: DEFAULT_WEBHOOK_RETRY },
    deliveries: untouchable('deliveries'),
    planChanges: untouchable('planChanges'),
    logger: false,
  };
  const app = await buildApp(deps);
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
