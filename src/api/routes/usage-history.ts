/**
 * Usage per day of the current billing period, for the dashboard's charts: a member's (the member, Admin, Billing,
 * finance) and the team's (Admin, Billing). Served from the ledger in PostgreSQL, one query per answer.
 */
import { formatCredits } from '../../../workflows/domain/credits';
import { periodContaining } from '../../../workflows/domain/periods';
import type { PlanTerms } from '../../../workflows/domain/plans';
import type { DailyUsage } from '../../db/usage-history-store';
import { notFound } from '../../errors';
import type { RouteContext } from '../context';
import { creditsOut, errorResponses, memberParams, money, teamParams } from '../schemas';
import { iso } from '../views';

const dayFigures = {
  used: { ...creditsOut, description: 'Credits spent from the allowance and purchased credits' },
  paygCredits: { ...creditsOut, description: 'Credits billed as pay-as-you-go' },
  paygCharge: {
    ...money,
    description:
      "What the PAYG credits add to the period's charges: per member, the rounded charge of the PAYG up to this " +
      'day minus that up to the day before (half-up, as the invoice rounds once per member and period), so the ' +
      "days add up to the invoice's amount at the plan's rate; for a team, the sum of its members' days",
  },
} as const;

const day = {
  type: 'object',
  properties: { date: { type: 'string', format: 'date', description: 'A UTC calendar day' }, ...dayFigures },
  required: ['date', 'used', 'paygCredits', 'paygCharge'],
} as const;

const history = {
  periodStart: { type: 'string', format: 'date-time' },
  periodEnd: { type: 'string', format: 'date-time' },
  paygRateMicrosPerCredit: { type: 'integer', description: "The plan's PAYG rate the charges are computed at" },
  days: {
    type: 'array',
    items: day,
    description: "Every day of the current period from its first to today's, days without usage included",
  },
  total: { type: 'object', properties: dayFigures, required: ['used', 'paygCredits', 'paygCharge'] },
} as const;
const historyRequired = ['teamId', 'periodStart', 'periodEnd', 'paygRateMicrosPerCredit', 'days', 'total'] as const;

const memberHistory = {
  type: 'object',
  properties: { teamId: { type: 'string' }, userId: { type: 'string' }, ...history },
  required: [...historyRequired, 'userId'],
} as const;

const teamHistory = {
  type: 'object',
  properties: {
    teamId: { type: 'string' },
    ...history,
    paygThreshold: {
      anyOf: [money, { type: 'null' }],
      description: "Billing is emailed once the period's PAYG charges pass it (null: no threshold)",
    },
    paygCap: {
      anyOf: [money, { type: 'null' }],
      description: "The team's PAYG charges for a period never exceed it (null: no cap)",
    },
  },
  required: [...historyRequired, 'paygThreshold', 'paygCap'],
} as const;

const errors = errorResponses({ 400: true, 404: true });

export function usageHistoryRoutes({ app, deps, guard, requireActiveMember }: RouteContext): void {
  /** The team, its plan and its current period; 404 for a team that does not exist. */
  const currentPeriodOf = async (teamId: string) => {
    const team = await deps.usageHistory.teamLimits(teamId);
    if (!team) throw notFound(`team ${teamId} not found`);
    const plan = deps.plans.get(team.plan);
    if (!plan) throw new Error(`unknown plan ${team.plan}`);
    const now = Date.now();
    return { team, plan, now, period: periodContaining(now, team.billingAnchorDay) };
  };

  app.get(
    '/v1/teams/:teamId/members/:userId/usage/daily',
    {
      schema: {
        summary: "A member's usage per day this billing period",
        operationId: 'getMemberDailyUsage',
        tags: ['usage'],
        description: 'The member, a team admin, Billing or finance.',
        params: memberParams,
        response: { 200: memberHistory, ...errors },
      },
      onRequest: guard('self', 'admin', 'billing', 'finance'),
    },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const [{ plan, now, period }] = await Promise.all([currentPeriodOf(teamId), requireActiveMember(teamId, userId)]);
      const days = await deps.usageHistory.daily({ teamId, userId, period, through: now, ...rateOf(plan) });
      return { teamId, userId, ...historyView(period, plan, days) };
    },
  );

  app.get(
    '/v1/teams/:teamId/usage/daily',
    {
      schema: {
        summary: "The team's usage per day this billing period, with its PAYG threshold and cap",
        operationId: 'getTeamDailyUsage',
        tags: ['usage'],
        description: 'A team admin or Billing.',
        params: teamParams,
        response: { 200: teamHistory, ...errors },
      },
      onRequest: guard('admin', 'billing'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { team, plan, now, period } = await currentPeriodOf(teamId);
      const days = await deps.usageHistory.daily({ teamId, period, through: now, ...rateOf(plan) });
      const moneyOrNull = (amountMinor: number | null) =>
        amountMinor === null ? null : { amountMinor, currency: plan.currency };
      return {
        teamId,
        ...historyView(period, plan, days),
        paygThreshold: moneyOrNull(team.paygThresholdMinor),
        paygCap: moneyOrNull(team.paygCapMinor),
      };
    },
  );
}

const rateOf = (plan: PlanTerms) => ({
  paygRateMicrosPerCredit: plan.paygRateMicrosPerCredit,
  currencyExponent: plan.currencyExponent,
});

function historyView(period: { start: number; end: number }, plan: PlanTerms, days: DailyUsage[]) {
  const charge = (amountMinor: number) => ({ amountMinor, currency: plan.currency });
  const sum = (pick: (d: DailyUsage) => number) => days.reduce((total, d) => total + pick(d), 0);
  return {
    periodStart: iso(period.start),
    periodEnd: iso(period.end),
    paygRateMicrosPerCredit: plan.paygRateMicrosPerCredit,
    days: days.map((d) => ({
      date: d.day,
      used: formatCredits(d.used),
      paygCredits: formatCredits(d.paygCredits),
      paygCharge: charge(d.paygChargeMinor),
    })),
    total: {
      used: formatCredits(sum((d) => d.used)),
      paygCredits: formatCredits(sum((d) => d.paygCredits)),
      paygCharge: charge(sum((d) => d.paygChargeMinor)),
    },
  };
}
