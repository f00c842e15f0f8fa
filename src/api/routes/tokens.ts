/** Bearer tokens for members and services, issued by provisioning. */
import { badRequest, notFound } from '../../errors';
import type { RouteContext } from '../context';
import { id } from '../schemas';

const tokenBody = {
  type: 'object',
  properties: {
    userId: id,
    teamId: id,
    service: { type: 'string', enum: ['agent', 'finance'] },
  },
  additionalProperties: false,
} as const;

export function tokenRoutes({ app, deps, guard, loadTeam }: RouteContext): void {
  app.post('/v1/tokens', { schema: { body: tokenBody }, onRequest: guard('provisioning') }, async (req, reply) => {
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
}
