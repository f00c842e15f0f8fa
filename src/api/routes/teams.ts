/** Teams: created by provisioning, with a plan, a billing anchor day and a PAYG threshold. */
import { ApiError, badRequest, notFound } from '../../errors';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { capMinor, described, errorResponses, id, money, teamParams } from '../schemas';

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

const paygCapBody = {
  type: 'object',
  properties: { monthlyCapMinor: { ...capMinor, description: "Monthly cap on the team's PAYG charges; null: none" } },
  required: ['monthlyCapMinor'],
  additionalProperties: false,
} as const;

const paygCapResponse = {
  type: 'object',
  properties: { teamId: id, monthlyCap: { anyOf: [money, { type: 'null' }] } },
  required: ['teamId', 'monthlyCap'],
} as const;

export function teamRoutes({ app, deps, guard }: RouteContext): void {
  const schema = {
    summary: 'Create a team',
    operationId: 'createTeam',
    tags: ['teams'],
    description: 'Provisioning only. The team starts its first billing period at once.',
    body: createTeamBody,
    response: {
      201: described('The team as created'),
      ...errorResponses({ 400: true, 409: 'A team with this teamId exists already (`conflict`)', 413: true }),
    },
  };
  app.post('/v1/teams', { schema, onRequest: guard('provisioning') }, async (req, reply) => {
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

  /**
   * The team's monthly PAYG cap (spec §15, Billing): the team's PAYG charges of a period never pass it, whichever
   * members spend. It applies to the next PAYG decision of every member (their workflows check it in PostgreSQL).
   */
  app.put(
    '/v1/teams/:teamId/payg-cap',
    {
      schema: {
        summary: "Set the team's monthly PAYG cap",
        operationId: 'setTeamPaygCap',
        tags: ['teams'],
        description:
          "Billing only. The team's PAYG charges of a period never pass it, whichever members spend: past it, " +
          'consumptions and reservations are refused with `team_payg_cap_reached`. Null removes it.',
        params: teamParams,
        body: paygCapBody,
        response: {
          200: { ...paygCapResponse, description: 'The cap as set' },
          ...errorResponses({ 400: true, 404: 'No such team (`not_found`)', 413: true }),
        },
      },
      onRequest: guard('billing'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { monthlyCapMinor } = req.body as { monthlyCapMinor: number | null };
      const team = await deps.transaction(async (s) => {
        const before = await s.teams.lockTeam(teamId);
        if (!before) throw notFound(`team ${teamId} not found`);
        await s.teams.setTeamPaygCap(teamId, monthlyCapMinor);
        if (before.paygCapMinor !== monthlyCapMinor) {
          await s.audit.record({
            teamId,
            ...actorOf(req.principal),
            action: 'team_payg_cap.changed',
            target: `team:${teamId}`,
            before: { monthlyCapMinor: before.paygCapMinor },
            after: { monthlyCapMinor },
          });
        }
        return before;
      });
      return {
        teamId,
        monthlyCap: monthlyCapMinor === null ? null : { amountMinor: monthlyCapMinor, currency: team.currency },
      };
    },
  );
}
