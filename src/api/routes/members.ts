/** Members of a team: added, changed and removed by provisioning or a team admin. */
import { notFound } from '../../errors';
import type { Role } from '../../db/team-store';
import type { RouteContext } from '../context';
import { memberParams } from '../schemas';

const putMemberBody = {
  type: 'object',
  properties: {
    email: { type: 'string', format: 'email', maxLength: 320 },
    roles: {
      type: 'array',
      items: { type: 'string', enum: ['member', 'admin', 'billing'] },
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
    },
  },
  required: ['email', 'roles'],
  additionalProperties: false,
} as const;

export function memberRoutes({ app, deps, guard, auth, metrics, loadTeam }: RouteContext): void {
  app.put(
    '/v1/teams/:teamId/members/:userId',
    { schema: { params: memberParams, body: putMemberBody }, onRequest: guard('provisioning', 'admin') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const { email, roles } = req.body as { email: string; roles: Role[] };
      await loadTeam(teamId);
      const member = await deps.teams.upsertMember({ teamId, userId, email, roles });
      auth.forget(teamId, userId);
      await deps.credits.members.ensureStarted(teamId, userId);
      metrics.workflowStarts.inc();
      return { teamId, userId, email: member.email, roles: member.roles, status: member.status };
    },
  );

  app.delete(
    '/v1/teams/:teamId/members/:userId',
    { schema: { params: memberParams }, onRequest: guard('provisioning', 'admin') },
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
      } else if (!(await deps.credits.members.isOpen(teamId, userId))) {
        throw notFound(`member ${userId} not found in team ${teamId}`);
      }
      // A retry after a failed close (Temporal unavailable) lands here again and finishes the removal.
      await deps.credits.members.remove(teamId, userId);
      return reply.status(204).send();
    },
  );
}
