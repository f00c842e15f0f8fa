import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PlanTerms } from '../../workflows/domain/plans';
import { notFound } from '../errors';
import type { AccessChangeStore } from '../db/access-change-store';
import type { AuditStore } from '../db/audit-store';
import type { RateLimits } from '../config';
import type { InvoiceStore } from '../db/invoice-store';
import type { LedgerStore } from '../db/ledger-store';
import type { NotificationStore } from '../db/notification-store';
import type { Team, TeamStore } from '../db/team-store';
import type { TokenStore } from '../db/token-store';
import type { UsageHistoryStore } from '../db/usage-history-store';
import type { WebhookStore } from '../db/webhook-store';
import type { WebhookSettings } from '../config';
import type { PlanChanges } from '../temporal/plan-changes';
import type { WebhookDeliveries } from '../temporal/webhook-deliveries';
import type { PlanCatalogue } from '../plans';
import type { MemberCredits } from '../credits/member-credits';
import type { Guard } from './access';
import type { Authenticator, AuthenticatorOptions } from './auth';
import type { Metrics } from './metrics';

/** The stores of who may do what, bound to one transaction: a change, its audit event and its publication commit together. */
export interface AccessStores {
  teams: TeamStore;
  tokens: TokenStore;
  audit: AuditStore;
  changes: AccessChangeStore;
  webhooks: WebhookStore;
}

export interface AppDeps {
  teams: TeamStore;
  tokens: TokenStore;
  audit: AuditStore;
  /**
   * Carries changes of access between API instances. Without it no token is cached: only the OpenAPI tool (no
   * database, no requests) builds the app so.
   */
  accessChanges?: AccessChangeStore;
  /** Runs `fn` in one PostgreSQL transaction with the access stores bound to it. */
  transaction<T>(fn: (stores: AccessStores) => Promise<T>): Promise<T>;
  ledger: LedgerStore;
  invoices: InvoiceStore;
  notifications: NotificationStore;
  usageHistory: UsageHistoryStore;
  plans: PlanCatalogue;
  credits: MemberCredits;
  webhooks: WebhookStore;
  /** Where webhook URLs may point (checked at registration) and how deliveries are retried. */
  webhookSettings: WebhookSettings;
  /** Starts webhook deliveries (manual redelivery). */
  deliveries: WebhookDeliveries;
  /** Carries plan upgrades to the members' running periods. */
  planChanges: PlanChanges;
  provisioningToken?: string;
  /** Requests per minute and token (default DEFAULT_RATE_LIMITS). */
  rateLimits?: RateLimits;
  auth?: AuthenticatorOptions;
  logger?: Logger | boolean;
  /** Readiness probe of the backing services, for /healthz. */
  health?: () => Promise<Record<string, boolean>>;
}

/** What every route module gets: the dependencies, the access guard, metrics and the common look-ups. */
export interface RouteContext {
  app: FastifyInstance;
  deps: AppDeps;
  guard: Guard;
  auth: Authenticator;
  metrics: Metrics;
  loadTeam(teamId: string): Promise<Team>;
  planOf(teamId: string): Promise<PlanTerms>;
  requireActiveMember(teamId: string, userId: string): Promise<void>;
}

export function lookups(deps: AppDeps): Pick<RouteContext, 'loadTeam' | 'planOf' | 'requireActiveMember'> {
  const loadTeam = async (teamId: string) => {
    const team = await deps.teams.getTeam(teamId);
    if (!team) throw notFound(`team ${teamId} not found`);
    return team;
  };
  return {
    loadTeam,
    planOf: async (teamId) => {
      const team = await loadTeam(teamId);
      const plan = deps.plans.get(team.plan);
      if (!plan) throw new Error(`unknown plan ${team.plan}`);
      return plan;
    },
    requireActiveMember: async (teamId, userId) => {
      const member = await deps.teams.getMember(teamId, userId);
      if (!member || member.status !== 'active') throw notFound(`member ${userId} not found in team ${teamId}`);
    },
  };
}

export type RouteModule = (ctx: RouteContext) => void;
