import { readFile } from 'node:fs/promises';
import path from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { CreditsFormatError, formatCredits, parseCreditAmount } from '../../workflows/domain/credits';
import type { PlanTerms } from '../../workflows/domain/plans';
import type { Balance, ConsumeResult } from '../../workflows/member-credits/types';
import { ApiError, badRequest, forbidden, notFound } from '../errors';
import type { InvoiceStore } from '../db/invoice-store';
import type { LedgerStore } from '../db/ledger-store';
import type { NotificationStore } from '../db/notification-store';
import type { Role, TeamStore } from '../db/team-store';
import type { TokenStore } from '../db/token-store';
import type { PlanCatalogue } from '../plans';
import type { CreditsService } from '../temporal/credits-service';
import { Authenticator, type Principal } from './auth';
import { Metrics } from './metrics';
import * as S from './schemas';

export interface AppDeps {
  teams: TeamStore;
  tokens: TokenStore;
  ledger: LedgerStore;
  invoices: InvoiceStore;
  notifications: NotificationStore;
  plans: PlanCatalogue;
  credits: CreditsService;
  provisioningToken?: string;
  logger?: Logger | boolean;
  /** Readiness probe of the backing services, for /healthz. */
  health?: () => Promise<Record<string, boolean>>;
}

type Access = 'provisioning' | 'agent' | 'finance' | 'self' | 'admin' | 'billing' | 'anyMember';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

const DASHBOARD_DIR = path.join(__dirname, 'dashboard');
const DASHBOARD_FILES: Record<string, string> = {
  '': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Built loosely typed: a pino instance goes in `loggerInstance`, which narrows Fastify's generics.
  const options: Record<string, unknown> = {
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Malformed URLs and over-long parameters get the contract's error body too.
    frameworkErrors: (err: Error, _req: unknown, reply: { status(code: number): { send(body: unknown): void } }) =>
      reply.status(400).send({ error: { code: 'invalid_request', message: err.message } }),
  };
  if (deps.logger && typeof deps.logger === 'object') options.loggerInstance = deps.logger;
  else options.logger = deps.logger ?? false;
  const app = Fastify(options as never) as unknown as FastifyInstance;
  const auth = new Authenticator(deps.tokens, deps.teams, deps.provisioningToken);
  const metrics = new Metrics();

  await app.register(swagger, {
    openapi: {
      info: { title: 'AI credits API', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.decorateRequest('principal', undefined as unknown as never);
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(req.method, req.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
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

  /** Authenticate, then check the principal may act on this team (and member, for `self`). */
  const guard =
    (...allowed: Access[]) =>
    async (req: FastifyRequest) => {
      req.principal = await auth.authenticate(req.headers.authorization);
      const { teamId, userId } = (req.params ?? {}) as { teamId?: string; userId?: string };
      authorize(req.principal, allowed, teamId, userId);
    };

  const loadTeam = async (teamId: string) => {
    const team = await deps.teams.getTeam(teamId);
    if (!team) throw notFound(`team ${teamId} not found`);
    return team;
  };
  const planOf = async (teamId: string) => {
    const team = await loadTeam(teamId);
    const plan = deps.plans.get(team.plan);
    if (!plan) throw new Error(`unknown plan ${team.plan}`);
    return plan;
  };

  // ---- public ----

  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const checks = deps.health ? await deps.health() : {};
    const ok = Object.values(checks).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', checks });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.render()),
  );
  for (const [file, type] of Object.entries(DASHBOARD_FILES)) {
    app.get(`/dashboard${file ? `/${file}` : ''}`, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'self'; frame-ancestors 'none'")
        .header('x-content-type-options', 'nosniff')
        .send(await readFile(path.join(DASHBOARD_DIR, file || 'index.html'))),
    );
  }
  app.get('/dashboard/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard'));

  // ---- provisioning ----

  app.post(
    '/v1/teams',
    { schema: { body: S.createTeamBody }, onRequest: guard('provisioning') },
    async (req, reply) => {
      const body = req.body as { teamId: string; plan: string; billingAnchorDay: number; paygThresholdMinor?: number };
      if (!deps.plans.get(body.plan))
        throw badRequest(`unknown plan ${body.plan}; plans: ${deps.plans.ids().join(', ')}`);
      const team = {
        teamId: body.teamId,
        plan: body.plan,
        billingAnchorDay: body.billingAnchorDay,
        paygThresholdMinor: body.paygThresholdMinor ?? null,
        currency: deps.plans.currency,
      };
      if (!(await deps.teams.createTeam(team)))
        throw new ApiError(409, 'conflict', `team ${body.teamId} exists already`);
      await deps.credits.ensureTeamBilling(team.teamId);
      return reply.status(201).send(team);
    },
  );

  app.put(
    '/v1/teams/:teamId/members/:userId',
    { schema: { params: S.memberParams, body: S.putMemberBody }, onRequest: guard('provisioning', 'admin') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const { email, roles } = req.body as { email: string; roles: Role[] };
      await loadTeam(teamId);
      const member = await deps.teams.upsertMember({ teamId, userId, email, roles });
      auth.forget(teamId, userId);
      await deps.credits.ensureStarted(teamId, userId);
      metrics.workflowStarts.inc();
      return { teamId, userId, email: member.email, roles: member.roles, status: member.status };
    },
  );

  app.delete(
    '/v1/teams/:teamId/members/:userId',
    { schema: { params: S.memberParams }, onRequest: guard('provisioning', 'admin') },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      await loadTeam(teamId);
      const member = await deps.teams.getMember(teamId, userId);
      if (!member) throw notFound(`member ${userId} not found in team ${teamId}`);
      if (member.status === 'active') {
        // Mark first, so no consumption can lazily start a fresh run between the close and the mark.
        await deps.teams.markRemoved(teamId, userId);
        await deps.tokens.revokeMember(teamId, userId);
        auth.forget(teamId, userId);
      } else if (!(await deps.credits.isOpen(teamId, userId))) {
        throw notFound(`member ${userId} not found in team ${teamId}`);
      }
      // A retry after a failed close (Temporal unavailable) lands here again and finishes the removal.
      await deps.credits.remove(teamId, userId);
      return reply.status(204).send();
    },
  );

  app.post('/v1/tokens', { schema: { body: S.tokenBody }, onRequest: guard('provisioning') }, async (req, reply) => {
    const body = req.body as { userId?: string; teamId?: string; service?: 'agent' | 'finance' };
    if (body.service && body.userId) throw badRequest('give either userId (with teamId) or service, not both');
    if (body.service) {
      if (body.teamId) await loadTeam(body.teamId);
      const token = await deps.tokens.issue({ kind: 'service', service: body.service, teamId: body.teamId ?? null });
      return reply.status(201).send({ token, service: body.service, teamId: body.teamId ?? null });
    }
    if (!body.userId || !body.teamId) throw badRequest('a member token needs teamId and userId');
    const member = await deps.teams.getMember(body.teamId, body.userId);
    if (!member || member.status !== 'active') throw notFound(`member ${body.userId} not found in team ${body.teamId}`);
    const token = await deps.tokens.issue({ kind: 'member', teamId: body.teamId, userId: body.userId });
    return reply.status(201).send({ token, teamId: body.teamId, userId: body.userId });
  });

  // ---- credits ----

  app.post(
    '/v1/teams/:teamId/members/:userId/consumptions',
    {
      schema: {
        params: S.memberParams,
        body: S.consumeBody,
        response: { 200: S.consumeResponse, 402: S.consumeResponse },
      },
      onRequest: guard('agent', 'self'),
    },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const body = req.body as { requestId: string; action: string; credits: unknown };
      const millicredits = parseAmount(body.credits);
      const result = await deps.credits.consume(teamId, userId, {
        requestId: body.requestId,
        action: body.action,
        millicredits,
      });
      metrics.consumptions.inc({ decision: result.decision });
      return reply.status(result.decision === 'refused' ? 402 : 200).send(consumeView(result));
    },
  );

  app.get(
    '/v1/teams/:teamId/members/:userId/credits',
    { schema: { params: S.memberParams }, onRequest: guard('self', 'admin', 'billing', 'finance') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      await requireActiveMember(deps.teams, teamId, userId);
      const view = await deps.credits.state(teamId, userId);
      const plan = await planOf(teamId);
      return {
        teamId,
        userId,
        plan: view.planId,
        planTerms: planTermsView(plan),
        notificationsSent: view.notificationsSent,
        balance: balanceView(view.balance),
      };
    },
  );

  app.put(
    '/v1/teams/:teamId/members/:userId/payg',
    { schema: { params: S.memberParams, body: S.paygBody }, onRequest: guard('billing') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      await requireActiveMember(deps.teams, teamId, userId);
      const { enabled } = req.body as { enabled: boolean };
      return { teamId, userId, balance: balanceView(await deps.credits.setPayg(teamId, userId, enabled)) };
    },
  );

  app.post(
    '/v1/teams/:teamId/members/:userId/credit-purchases',
    { schema: { params: S.memberParams, body: S.purchaseBody }, onRequest: guard('billing') },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const body = req.body as { purchaseId: string; credits: unknown };
      const plan = await planOf(teamId);
      if (!plan.purchasesAllowed)
        throw new ApiError(422, 'not_allowed', `plan ${plan.planId} does not allow credit purchases`);
      const millicredits = parseAmount(body.credits, plan.maxPurchase);
      await requireActiveMember(deps.teams, teamId, userId);
      const r = await deps.credits.purchase(teamId, userId, { purchaseId: body.purchaseId, millicredits });
      return reply.status(r.duplicate ? 200 : 201).send({
        purchaseId: r.purchaseId,
        credits: formatCredits(r.millicredits),
        price: { amountMinor: r.amountMinor, currency: r.currency },
        balance: balanceView(r.balance),
      });
    },
  );

  app.get(
    '/v1/teams/:teamId/usage',
    { schema: { params: S.teamParams }, onRequest: guard('admin', 'billing') },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const team = await loadTeam(teamId);
      const members = await deps.teams.listMembers(teamId);
      const rows = await Promise.all(
        members.map(async (m) => {
          const view = await deps.credits.state(teamId, m.userId);
          return { userId: m.userId, email: m.email, roles: m.roles, balance: balanceView(view.balance) };
        }),
      );
      const plan = deps.plans.get(team.plan);
      return { teamId, plan: team.plan, planTerms: plan ? planTermsView(plan) : null, members: rows };
    },
  );

  app.get('/v1/me/alerts', { onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('alerts belong to members; use a member token');
    const alerts = await deps.notifications.alertsFor(p.teamId, p.userId);
    return { alerts: alerts.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })) };
  });

  app.get('/v1/me', { onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('use a member token');
    const member = await deps.teams.getMember(p.teamId, p.userId);
    return { teamId: p.teamId, userId: p.userId, email: member?.email ?? null, roles: p.roles };
  });

  // ---- finance ----

  app.get(
    '/v1/teams/:teamId/invoices',
    { schema: { params: S.teamParams }, onRequest: guard('billing', 'finance') },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      await loadTeam(teamId);
      return { invoices: (await deps.invoices.list(teamId)).map(invoiceView) };
    },
  );

  app.get(
    '/v1/teams/:teamId/invoices/preview',
    { schema: { params: S.teamParams }, onRequest: guard('billing', 'finance') },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const team = await loadTeam(teamId);
      const [cycle, invoices, members] = await Promise.all([
        deps.credits.teamBilling(teamId),
        deps.invoices.list(teamId),
        deps.teams.listMembers(teamId),
      ]);
      const open = invoices.find((i) => i.status === 'open');
      const posted = open ? ((await deps.invoices.get(teamId, open.invoiceId))?.lines ?? []) : [];
      const accruing = await Promise.all(
        members.map(async (m) => {
          const { balance } = await deps.credits.state(teamId, m.userId);
          return {
            userId: m.userId,
            paygCredits: formatCredits(balance.paygCredits),
            amountMinor: balance.paygChargeMinor,
          };
        }),
      );
      const postedMinor = posted.reduce((sum, l) => sum + l.amountMinor, 0);
      const accruingMinor = accruing.reduce((sum, a) => sum + a.amountMinor, 0);
      return {
        teamId,
        periodStart: iso(cycle.periodStart),
        periodEnd: iso(cycle.periodEnd),
        finalizesAt: iso(cycle.invoiceFinalizesAt),
        openInvoiceId: open?.invoiceId ?? null,
        posted: posted.map((l) => ({
          userId: l.userId,
          kind: l.kind,
          description: l.description,
          credits: formatCredits(l.millicredits),
          amount: { amountMinor: l.amountMinor, currency: l.currency },
        })),
        accruingPayg: accruing
          .filter((a) => a.amountMinor > 0 || a.paygCredits !== '0')
          .map((a) => ({
            userId: a.userId,
            paygCredits: a.paygCredits,
            amount: { amountMinor: a.amountMinor, currency: team.currency },
          })),
        estimatedTotal: { amountMinor: postedMinor + accruingMinor, currency: team.currency },
      };
    },
  );

  app.get(
    '/v1/teams/:teamId/invoices/:invoiceId',
    {
      schema: {
        params: {
          type: 'object',
          properties: {
            teamId: S.teamParams.properties.teamId,
            invoiceId: { type: 'string', pattern: '^[0-9]{1,15}$' },
          },
          required: ['teamId', 'invoiceId'],
        },
      },
      onRequest: guard('billing', 'finance'),
    },
    async (req) => {
      const { teamId, invoiceId } = req.params as { teamId: string; invoiceId: string };
      const invoice = await deps.invoices.get(teamId, invoiceId);
      if (!invoice) throw notFound(`invoice ${invoiceId} not found`);
      return {
        ...invoiceView(invoice),
        lines: invoice.lines.map((l) => ({
          userId: l.userId,
          kind: l.kind,
          description: l.description,
          periodStart: iso(l.periodStart),
          periodEnd: iso(l.periodEnd),
          credits: formatCredits(l.millicredits),
          rateMicrosPerCredit: l.rateMicrosPerCredit,
          amount: { amountMinor: l.amountMinor, currency: l.currency },
          postedAt: iso(l.postedAt),
        })),
      };
    },
  );

  app.get(
    '/v1/teams/:teamId/ledger',
    { schema: { params: S.teamParams, querystring: S.ledgerQuery }, onRequest: guard('finance') },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const q = req.query as { periodStart?: string; userId?: string };
      await loadTeam(teamId);
      const periodStart = q.periodStart === undefined ? undefined : Date.parse(q.periodStart);
      if (periodStart !== undefined && Number.isNaN(periodStart)) throw badRequest('periodStart must be a date-time');
      const rows = await deps.ledger.list({ teamId, userId: q.userId, periodStart });
      return {
        entries: rows.map((r) => ({
          id: r.id,
          userId: r.userId,
          kind: r.kind,
          credits: formatCredits(r.millicredits),
          amount: r.amountMinor === undefined ? null : { amountMinor: r.amountMinor, currency: r.currency },
          periodStart: iso(r.periodStart),
          periodEnd: iso(r.periodEnd),
          requestId: r.requestId ?? null,
          action: r.action ?? null,
          occurredAt: iso(r.occurredAt),
          workflowId: r.workflowId,
          runId: r.runId,
        })),
      };
    },
  );

  return app;
}

function authorize(p: Principal, allowed: Access[], teamId?: string, userId?: string): void {
  switch (p.kind) {
    case 'provisioning':
      if (!allowed.includes('provisioning')) throw forbidden();
      return;
    case 'service':
      if (teamId && p.teamId && p.teamId !== teamId) throw notFound(`team ${teamId} not found`);
      if (!allowed.includes(p.service)) throw forbidden();
      return;
    case 'member': {
      if (teamId && p.teamId !== teamId) throw notFound(`team ${teamId} not found`);
      if (allowed.includes('anyMember')) return;
      if (allowed.includes('self') && userId === p.userId) return;
      if (p.roles.some((r) => allowed.includes(r as Access))) return;
      throw forbidden();
    }
  }
}

async function requireActiveMember(teams: TeamStore, teamId: string, userId: string): Promise<void> {
  const member = await teams.getMember(teamId, userId);
  if (!member || member.status !== 'active') throw notFound(`member ${userId} not found in team ${teamId}`);
}

function parseAmount(input: unknown, max?: number): number {
  try {
    return parseCreditAmount(input, max === undefined ? {} : { max });
  } catch (err) {
    if (err instanceof CreditsFormatError || err instanceof RangeError) throw badRequest(err.message);
    throw err;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export function balanceView(b: Balance) {
  return {
    periodStart: iso(b.periodStart),
    periodEnd: iso(b.periodEnd),
    allowance: formatCredits(b.allowance),
    purchased: formatCredits(b.purchased),
    used: formatCredits(b.used),
    remaining: formatCredits(b.remaining),
    paygEnabled: b.paygEnabled,
    paygAvailable: b.paygAvailable,
    paygCredits: formatCredits(b.paygCredits),
    paygCharge: { amountMinor: b.paygChargeMinor, currency: b.currency },
    paused: b.paused,
  };
}

function planTermsView(plan: PlanTerms) {
  return {
    planId: plan.planId,
    monthlyAllowance: formatCredits(plan.monthlyAllowance),
    paygAvailable: plan.paygAvailable,
    paygRateMicrosPerCredit: plan.paygRateMicrosPerCredit,
    purchasesAllowed: plan.purchasesAllowed,
    purchaseRateMicrosPerCredit: plan.purchaseRateMicrosPerCredit,
    maxPurchaseCredits: formatCredits(plan.maxPurchase),
    maxCreditsPerAction: formatCredits(plan.maxCreditsPerAction),
    currency: plan.currency,
    currencyExponent: plan.currencyExponent,
  };
}

function consumeView(r: ConsumeResult) {
  const c = r.charged;
  return {
    decision: r.decision,
    ...(r.reason ? { reason: r.reason } : {}),
    charged: {
      total: formatCredits(c.allowance + c.purchased + c.payg),
      allowance: formatCredits(c.allowance),
      purchased: formatCredits(c.purchased),
      payg: formatCredits(c.payg),
    },
    balance: balanceView(r.balance),
  };
}

function invoiceView(i: {
  invoiceId: string;
  sequence: number;
  status: string;
  currency: string;
  totalMinor: number;
  openedAt: number;
  finalizedAt: number | null;
}) {
  return {
    invoiceId: i.invoiceId,
    sequence: i.sequence,
    status: i.status,
    total: { amountMinor: i.totalMinor, currency: i.currency },
    openedAt: iso(i.openedAt),
    finalizedAt: i.finalizedAt === null ? null : iso(i.finalizedAt),
  };
}
