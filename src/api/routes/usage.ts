/** The team's resource usage: every member's balance this period, a page at a time (Admin, Billing). */
import type { RouteContext } from '../context';
import { pageQuery, pageSize, teamParams } from '../schemas';
import { balanceView, planTermsView } from '../views';

const usageQuery = {
  type: 'object',
  properties: {
    ...pageQuery.properties,
    q: { type: 'string', maxLength: 100, description: 'Only members whose user id or email contains this' },
  },
  additionalProperties: false,
} as const;

export function usageRoutes({ app, deps, guard }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/usage',
    { schema: { params: teamParams, querystring: usageQuery }, onRequest: guard('admin', 'billing') },
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
