/**
 * The HTTP API (spec §12): Fastify with the contract's error body, OpenAPI from the routes' JSON schemas, and one
 * route module per resource in `routes/`.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_RATE_LIMITS } from '../config';
import { ApiError, CreditsError, type CreditsErrorCode } from '../errors';
import { createGuard, rateLimitKey, type RateLimiter } from './access';
import { AccessLog } from './access-log';
import { Authenticator } from './auth';
import { lookups, type AppDeps, type RouteModule } from './context';
import { Metrics } from './metrics';
import { openApiOptions } from './openapi';
import { securityHeaders } from './security-headers';
import { consumptionRoutes } from './routes/consumptions';
import { creditRoutes } from './routes/credits';
import { invoiceRoutes } from './routes/invoices';
import { ledgerRoutes } from './routes/ledger';
import { meRoutes } from './routes/me';
import { memberRoutes } from './routes/members';
import { reservationRoutes } from './routes/reservations';
import { systemRoutes } from './routes/system';
import { teamRoutes } from './routes/teams';
import { tokenRoutes } from './routes/tokens';
import { usageRoutes } from './routes/usage';
import { auditRoutes } from './routes/audit';
import { usageHistoryRoutes } from './routes/usage-history';
import { webhookRoutes } from './routes/webhooks';

export type { AppDeps } from './context';

const ROUTES: RouteModule[] = [
  systemRoutes,
  teamRoutes,
  memberRoutes,
  tokenRoutes,
  consumptionRoutes,
  reservationRoutes,
  creditRoutes,
  usageRoutes,
  usageHistoryRoutes,
  meRoutes,
  invoiceRoutes,
  ledgerRoutes,
  auditRoutes,
  webhookRoutes,
];

const CREDITS_ERROR_STATUS: Record<CreditsErrorCode, number> = {
  invalid_request: 400,
  not_found: 404,
  not_allowed: 422,
  idempotency_key_reused: 409,
  reservation_not_held: 409,
  unavailable: 503,
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Built loosely typed: a pino instance goes in `loggerInstance`, which narrows Fastify's generics.
  const options: Record<string, unknown> = {
    bodyLimit: 16 * 1024,
    logController: new AccessLog(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Malformed URLs and over-long parameters get the contract's error body too.
    frameworkErrors: (err: Error, _req: unknown, reply: { status(code: number): { send(body: unknown): void } }) =>
      reply.status(400).send({ error: { code: 'invalid_request', message: err.message } }),
  };
  if (deps.logger && typeof deps.logger === 'object') options.loggerInstance = deps.logger;
  else options.logger = deps.logger ?? false;
  const app = Fastify(options as never) as unknown as FastifyInstance;
  const auth = new Authenticator(deps.tokens, deps.teams, deps.provisioningToken, deps.accessChanges, {
    onError: (err, what) => app.log.warn({ err }, what),
    ...deps.auth,
  });
  await auth.start();
  app.addHook('onClose', () => auth.stop());
  const metrics = new Metrics(() => deps.credits.reservationsExpired());

  // Every answer carries the security headers (computed once; see security-headers.ts).
  const headers = securityHeaders();
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(headers);
    done();
  });

  // Counted per token in the access guard, right after authentication (routes/*: `guard(...)`), so a token's limit
  // holds whichever address it comes from; the public routes (health, OpenAPI, metrics, dashboard files) have none.
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  await app.register(rateLimit, {
    global: false,
    timeWindow: 60_000,
    cache: 50_000,
    keyGenerator: (req) => rateLimitKey(req.principal),
    max: (req) =>
      req.principal.kind === 'service' && req.principal.service === 'agent' ? limits.agentPerMinute : limits.perMinute,
  });
  const limiter = app.createRateLimit() as unknown as RateLimiter;

  await app.register(swagger, openApiOptions);

  app.decorateRequest('principal', undefined as unknown as never);
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError || err instanceof CreditsError) {
      const status = err instanceof ApiError ? err.status : CREDITS_ERROR_STATUS[err.code];
      return reply.status(status).send({ error: { code: err.code, message: err.message } });
    }
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message: string };
    if (e.validation) return reply.status(400).send({ error: { code: 'invalid_request', message: e.message } });
    if (e.statusCode === 413) return reply.status(413).send({ error: { code: 'too_large', message: e.message } });
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(400).send({ error: { code: 'invalid_request', message: e.message } });
    }
    req.log.error({ err }, 'request failed');
    return reply
      .status(503)
      .send({ error: { code: 'unavailable', message: 'the service could not complete this request; retry' } });
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: 'no such route' } }),
  );

  const ctx = { app, deps, auth, metrics, guard: createGuard(auth, limiter), ...lookups(deps) };
  for (const routes of ROUTES) routes(ctx);
  return app;
}
