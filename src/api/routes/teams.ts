/** Teams: created by provisioning, with a plan, a billing anchor day and a PAYG threshold. */
import { ApiError, badRequest } from '../../errors';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { id } from '../schemas';

const createTeamBody = {
  type: 'object',
  properties: {
    teamId: id,
    plan: { type: 'string', maxLength: 32 },
    billingAnchorDay: { type: 'integer', minimum: 1, maximum: 31 },
    paygThresholdMinor: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
  required: ['teamId', 'plan', 'billingAnchorDay'],
  additionalProperties: false,
} as const;

export function teamRoutes({ app, deps, guard }: RouteContext): void {
  app.post('/v1/teams', { schema: { body: createTeamBody }, onRequest: guard('provisioning') }, async (req, reply) => {
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
    await deps.transaction(async (s) => {
      if (!(await s.teams.createTeam(team))) throw new ApiError(409, 'conflict', `team ${body.teamId} exists already`);
      await s.audit.record({
        teamId: team.teamId,
        ...actorOf(req.principal),
        action: 'team.created',
        target: `team:${team.teamId}`,
        before: null,
        after: team,
      });
    });
    await deps.credits.members.ensureTeamBilling(team.teamId);
    return reply.status(201).send(team);
  });
}
