/** Teams: created by provisioning, with a plan, a billing anchor day and a PAYG threshold; plan changes (spec §16). */
import { randomBytes } from 'node:crypto';
import { periodContaining } from '../../../workflows/domain/periods';
import { ApiError, badRequest, notFound } from '../../errors';
import { isUpgrade } from '../../plans';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { capMinor, described, errorResponses, id, money, teamParams } from '../schemas';
import { iso } from '../views';

/** How long PATCH waits for an upgrade to reach every member's running period before it answers anyway. */
const UPGRADE_WAIT_MS = 10_000;

const planChangeBody = {
  type: 'object',
  properties: { plan: { type: 'string', minLength: 1, maxLength: 32 } },
  required: ['plan'],
  additionalProperties: false,
} as const;

const pendingPlan = {
  anyOf: [
    {
      type: 'object',
      properties: { plan: { type: 'string' }, from: { type: 'string', format: 'date-time' } },
      required: ['plan', 'from'],
    },
    { type: 'null' },
  ],
  description: 'A downgrade waiting for the next billing date',
} as const;

const planChangeResponse = {
  type: 'object',
  properties: {
    teamId: id,
    plan: { type: 'string', description: 'The plan in force now' },
    pendingPlan,
    change: {
      type: 'string',
      enum: ['upgrade', 'downgrade', 'cancelled', 'none'],
      description:
        'upgrade: at once (allowances grow, the new PAYG rate applies); downgrade: at the next billing date; ' +
        'cancelled: a pending downgrade dropped (back to the current plan)',
    },
    membersUpdated: {
      anyOf: [{ type: 'integer' }, { type: 'null' }],
      description: 'Running member periods the upgrade reached before the answer (null: still under way)',
    },
  },
  required: ['teamId', 'plan', 'pendingPlan', 'change'],
} as const;

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
   * Change the team's plan (spec §16, provisioning and Billing): an upgrade (more credits a month) at once, each
   * member's allowance for this period growing by the difference, with a ledger row, and PAYG at the new rate from
   * now on; anything else at the next billing date (pending until then). Asking for the current plan drops a pending
   * downgrade. Recorded in the audit trail.
   */
  app.patch(
    '/v1/teams/:teamId',
    {
      schema: {
        summary: "Change a team's plan",
        operationId: 'changeTeamPlan',
        tags: ['teams'],
        description:
          'Provisioning or Billing. An upgrade applies at once (allowances grow by the difference, the new PAYG rate ' +
          'from now on); a downgrade waits for the next billing date (pending); the current plan cancels a pending one.',
        params: teamParams,
        body: planChangeBody,
        response: { 200: planChangeResponse, ...errorResponses({ 400: true, 404: true, 413: true }) },
      },
      onRequest: guard('provisioning', 'billing'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { plan: planId } = req.body as { plan: string };
      const target = deps.plans.get(planId);
      if (!target) throw badRequest(`unknown plan ${planId}; plans: ${deps.plans.ids().join(', ')}`);
      const changeId = `chg_${randomBytes(12).toString('base64url')}`;
      const decided = await deps.transaction(async (s) => {
        const team = await s.teams.lockTeam(teamId);
        if (!team) throw notFound(`team ${teamId} not found`);
        const current = deps.plans.get(team.plan);
        if (!current) throw new Error(`team ${teamId} has plan ${team.plan}, which the plan catalogue lacks`);
        let change: 'upgrade' | 'downgrade' | 'cancelled' | 'none';
        let pending: { plan: string; from: number } | null = null;
        if (planId === team.plan) {
          change = team.pendingPlan ? 'cancelled' : 'none';
        } else if (isUpgrade(current, target)) {
          change = 'upgrade';
        } else {
          change = 'downgrade';
          pending = { plan: planId, from: periodContaining(Date.now(), team.billingAnchorDay).end };
        }
        if (change === 'none') return { team, change, pending: team.pendingPlan };
        await s.teams.setPlan(teamId, change === 'upgrade' ? planId : team.plan, pending);
        const view = (p: { plan: string; from: number } | null) => p && { plan: p.plan, from: iso(p.from) };
        await s.audit.record({
          teamId,
          ...actorOf(req.principal),
          action: 'plan.changed',
          target: `team:${teamId}`,
          before: { plan: team.plan, pendingPlan: view(team.pendingPlan) },
          after: {
            plan: change === 'upgrade' ? planId : team.plan,
            pendingPlan: view(pending),
            change,
            ...(change === 'upgrade' ? { changeId } : {}),
          },
        });
        return { team, change, pending };
      });
      let membersUpdated: number | null = null;
      if (decided.change === 'upgrade') {
        const done = await deps.planChanges.upgrade(
          { teamId, changeId, fromPlanId: decided.team.plan, toPlanId: planId },
          UPGRADE_WAIT_MS,
        );
        membersUpdated = done?.applied ?? null;
      }
      return {
        teamId,
        plan: decided.change === 'upgrade' ? planId : decided.team.plan,
        pendingPlan: decided.pending && { plan: decided.pending.plan, from: iso(decided.pending.from) },
        change: decided.change,
        membersUpdated,
      };
    },
  );

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
