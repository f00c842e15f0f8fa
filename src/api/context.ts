import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PlanTerms } from '../../workflows/domain/plans';
import { notFound } from '../errors';
import type { InvoiceStore } from '../db/invoice-store';
import type { LedgerStore } from '../db/ledger-store';
import type { NotificationStore } from '../db/notification-store';
import type { Team, TeamStore } from '../db/team-store';
import type { TokenStore } from '../db/token-store';
import type { UsageHistoryStore } from '../db/usage-history-store';
import type { PlanCatalogue } from '../plans';
import type { MemberCredits } from '../credits/member-credits';
import type { Guard } from './access';
import type { Authenticator } from './auth';
import type { Metrics } from './metrics';

export interface AppDeps {
  teams: TeamStore;
  tokens: TokenStore;
  ledger: LedgerStore;
  invoices: InvoiceStore;
  notifications: NotificationStore;
  usageHistory: UsageHistoryStore;
  plans: PlanCatalogue;
  credits: MemberCredits;
  provisioningToken?: string;
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
