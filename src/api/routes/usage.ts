/** The team's resource usage: every member's balance this period, a page at a time (Admin, Billing). */
import type { RouteContext } from '../context';
import { balance, errorResponses, id, pageQuery, pageSize, planTerms, teamParams } from '../schemas';
import { balanceView, iso, planTermsView } from '../views';

const usageQuery = {
  type: 'object',
  properties: {
    ...pageQuery.properties,
    q: { type: 'string', maxLength: 100, description: 'Only members whose user id or email contains this' },
  },
  additionalProperties: false,
} as const;

const usagePage = {
  type: 'object',
  properties: {
    teamId: id,
    plan: { type: 'string' },
    planTerms,
    pendingPlan: {
      anyOf: [
        {
          type: 'object',
          properties: { plan: { type: 'string' }, from: { type: 'string', format: 'date-time' } },
          required: ['plan', 'from'],
        },
        { type: 'null' },
      ],
      description: 'A downgrade waiting for the next billing date',
    },
    members: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          userId: id,
          email: { type: 'string' },
          roles: { type: 'array', items: { type: 'string' } },
          balance,
        },
        required: ['userId', 'email', 'roles', 'balance'],
      },
    },
    nextCursor: {
      anyOf: [{ type: 'string' }, { type: 'null' }],
      description: 'The cursor of the next page; null on the last page',
    },
  },
  required: ['teamId', 'plan', 'planTerms', 'members', 'nextCursor'],
} as const;

export function usageRoutes({ app, deps, guard }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/usage',
    {
      schema: {
        summary: "Every member's balance this period",
        operationId: 'getTeamUsage',
        tags: ['usage'],
        description: "A team admin or Billing: the dashboard's table, a page of members at a time, by user id.",
        params: teamParams,
        querystring: usageQuery,
        response: {
          200: { ...usagePage, description: 'A page of members with their balances' },
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: guard('admin', 'billing'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { limit, cursor, q } = req.query as { limit?: string; cursor?: string; q?: string };
      const { team, plan, page, balanceOf } = await deps.credits.teamUsage(teamId, {
        limit: pageSize(limit),
        cursor,
        q: q || undefined,
      });
      return {
        teamId,
        plan: team.plan,
        planTerms: planTermsView(plan),
        // A downgrade waiting for the next billing date (the dashboard shows it).
        pendingPlan: team.pendingPlan && { plan: team.pendingPlan.plan, from: iso(team.pendingPlan.from) },
        members: page.members.map((m) => ({
          userId: m.userId,
          email: m.email,
          roles: m.roles,
          balance: balanceView(balanceOf(m)),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
}
