/**
 * Members of a team: added, changed and removed by provisioning or a team admin (spec §12), under the rules of §17:
 * nobody grants what they do not hold (the `billing` role is given and taken only by provisioning or a Billing
 * member, and only they may change or remove a Billing member), and a paid team keeps at least one Billing member.
 * Each change, its audit event and its publication to the other API instances commit in one transaction.
 */
import { ApiError, forbidden, notFound } from '../../errors';
import type { Member, Role } from '../../db/team-store';
import { actorOf, type Principal } from '../auth';
import type { RouteContext } from '../context';
import { described, errorResponses, memberParams, noContent } from '../schemas';

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

/** Provisioning and Billing members hold the billing role's power; an admin alone does not. */
const holdsBilling = (p: Principal) =>
  p.kind === 'provisioning' || (p.kind === 'member' && p.roles.includes('billing'));

const lastBillingMember = (teamId: string) =>
  new ApiError(
    409,
    'last_billing_member',
    `this is the last Billing member of team ${teamId}, whose plan bills PAYG or purchases: give another member the billing role first`,
  );

const sameRoles = (a: readonly Role[], b: readonly Role[]) => a.length === b.length && a.every((r) => b.includes(r));
const memberState = (m: Pick<Member, 'email' | 'roles'>) => ({ email: m.email, roles: [...m.roles] });

export function memberRoutes({ app, deps, guard, auth, metrics }: RouteContext): void {
  /** A plan that bills PAYG or credit purchases needs someone who can turn PAYG off and see the invoices. */
  const paidPlan = (planId: string) => {
    const plan = deps.plans.get(planId);
    return !!plan && (plan.paygAvailable || plan.purchasesAllowed);
  };

  app.put(
    '/v1/teams/:teamId/members/:userId',
    {
      schema: {
        summary: 'Add or update a member',
        operationId: 'putMember',
        tags: ['members'],
        description:
          'Provisioning or a team admin. Only provisioning or a Billing member grants or takes the billing role, or ' +
          'changes a Billing member. A member added mid-period gets the full allowance at once.',
        params: memberParams,
        body: putMemberBody,
        response: {
          200: described('The member as stored'),
          ...errorResponses({
            400: true,
            404: true,
            409: 'It would leave a paid team without a Billing member (`last_billing_member`)',
            413: true,
          }),
        },
      },
      onRequest: guard('provisioning', 'admin'),
    },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const { email, roles } = req.body as { email: string; roles: Role[] };
      const p = req.principal;
      const { member, rolesChanged } = await deps.transaction(async (s) => {
        const team = await s.teams.lockTeam(teamId);
        if (!team) throw notFound(`team ${teamId} not found`);
        const found = await s.teams.getMember(teamId, userId);
        const before = found?.status === 'active' ? found : null;
        if (before && before.email === email && sameRoles(before.roles, roles)) {
          return { member: before, rolesChanged: false };
        }
        const wasBilling = !!before?.roles.includes('billing');
        const willBilling = roles.includes('billing');
        if (wasBilling && !holdsBilling(p)) {
          throw forbidden('only provisioning or a Billing member may change a Billing member');
        }
        if (willBilling && !wasBilling && !holdsBilling(p)) {
          throw forbidden('only provisioning or a Billing member may grant the billing role');
        }
        if (wasBilling && !willBilling && paidPlan(team.plan)) {
          if ((await s.teams.countWithRole(teamId, 'billing', userId)) === 0) throw lastBillingMember(teamId);
        }
        const after = await s.teams.upsertMember({ teamId, userId, email, roles });
        await s.audit.record({
          teamId,
          ...actorOf(p),
          action: before ? 'member.changed' : 'member.added',
          target: `member:${userId}`,
          before: before ? memberState(before) : null,
          after: memberState(after),
        });
        const changed = !!before && !sameRoles(before.roles, roles);
        if (changed) await s.changes.publish({ kind: 'member', teamId, userId });
        return { member: after, rolesChanged: changed };
      });
      if (rolesChanged) auth.forget(teamId, userId);
      await deps.credits.members.ensureStarted(teamId, userId);
      metrics.workflowStarts.inc();
      return { teamId, userId, email: member.email, roles: member.roles, status: member.status };
    },
  );

  app.delete(
    '/v1/teams/:teamId/members/:userId',
    {
      schema: {
        summary: 'Remove a member',
        operationId: 'removeMember',
        tags: ['members'],
        description:
          "Provisioning or a team admin (a Billing member only by provisioning or Billing). Closes the member's " +
          'period (unused credits expire, PAYG charges are posted) and revokes their tokens.',
        params: memberParams,
        response: {
          204: noContent('Removed'),
          ...errorResponses({
            400: true,
            404: 'No such team, or no such member in it, also once removed (`not_found`)',
            409: 'It would leave a paid team without a Billing member (`last_billing_member`)',
          }),
        },
      },
      onRequest: guard('provisioning', 'admin'),
    },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const p = req.principal;
      const removedNow = await deps.transaction(async (s) => {
        const team = await s.teams.lockTeam(teamId);
        if (!team) throw notFound(`team ${teamId} not found`);
        const member = await s.teams.getMember(teamId, userId);
        if (!member) throw notFound(`member ${userId} not found in team ${teamId}`);
        if (member.status !== 'active') return false;
        if (member.roles.includes('billing')) {
          if (!holdsBilling(p)) throw forbidden('only provisioning or a Billing member may remove a Billing member');
          if (paidPlan(team.plan) && (await s.teams.countWithRole(teamId, 'billing', userId)) === 0) {
            throw lastBillingMember(teamId);
          }
        }
        // Marked first, so no consumption can lazily start a fresh run between the close and the mark.
        await s.teams.markRemoved(teamId, userId);
        const revokedTokens = await s.tokens.revokeMember(teamId, userId);
        await s.audit.record({
          teamId,
          ...actorOf(p),
          action: 'member.removed',
          target: `member:${userId}`,
          before: memberState(member),
          after: { revokedTokens },
        });
        await s.changes.publish({ kind: 'member', teamId, userId });
        return true;
      });
      if (removedNow) auth.forget(teamId, userId);
      else if (!(await deps.credits.members.isOpen(teamId, userId))) {
        throw notFound(`member ${userId} not found in team ${teamId}`);
      }
      // A retry after a failed close (Temporal unavailable) lands here again and finishes the removal.
      await deps.credits.members.remove(teamId, userId);
      return reply.status(204).send();
    },
  );
}
