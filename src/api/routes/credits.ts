/** A member's credits: the balance, the PAYG switch (Billing) and credit purchases (Billing, paid plans). */
import { formatCredits } from '../../../workflows/domain/credits';
import { ApiError, notFound } from '../../errors';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { capMinor, creditsIn, key, memberParams } from '../schemas';
import { balanceView, parseAmount, planTermsView } from '../views';

const paygBody = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean', description: 'PAYG on or off; absent: unchanged' },
    monthlyCapMinor: { ...capMinor, description: 'Monthly cap on the PAYG charges; null: none; absent: unchanged' },
  },
  minProperties: 1,
  additionalProperties: false,
} as const;

const purchaseBody = {
  type: 'object',
  properties: { purchaseId: key, credits: creditsIn },
  required: ['purchaseId', 'credits'],
  additionalProperties: false,
} as const;

export function creditRoutes({ app, deps, guard, planOf, requireActiveMember }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/members/:userId/credits',
    { schema: { params: memberParams }, onRequest: guard('self', 'admin', 'billing', 'finance') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      await requireActiveMember(teamId, userId);
      const [view, plan] = await Promise.all([deps.credits.balance(teamId, userId), planOf(teamId)]);
      return {
        teamId,
        userId,
        plan: view.planId,
        planTerms: planTermsView(plan),
        notificationsSent: view.notified,
        balance: balanceView(view.balance),
      };
    },
  );

  app.put(
    '/v1/teams/:teamId/members/:userId/payg',
    { schema: { params: memberParams, body: paygBody }, onRequest: guard('billing') },
    async (req) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const setting = req.body as { enabled?: boolean; monthlyCapMinor?: number | null };
      // Kept on the member first (a removal and re-add keeps it), with its audit event; then the workflow applies it.
      await deps.transaction(async (s) => {
        const before = await s.teams.lockMember(teamId, userId);
        if (!before || before.status !== 'active') throw notFound(`member ${userId} not found in team ${teamId}`);
        await s.teams.setPayg(teamId, userId, setting);
        const target = `member:${userId}`;
        if (setting.enabled !== undefined && before.paygEnabled !== setting.enabled) {
          await s.audit.record({
            teamId,
            ...actorOf(req.principal),
            action: 'payg.changed',
            target,
            before: { enabled: before.paygEnabled },
            after: { enabled: setting.enabled },
          });
        }
        if (setting.monthlyCapMinor !== undefined && setting.monthlyCapMinor !== before.paygCapMinor) {
          await s.audit.record({
            teamId,
            ...actorOf(req.principal),
            action: 'payg_cap.changed',
            target,
            before: { monthlyCapMinor: before.paygCapMinor },
            after: { monthlyCapMinor: setting.monthlyCapMinor },
          });
        }
      });
      const view = await deps.credits.setPayg(teamId, userId, setting);
      return { teamId, userId, balance: balanceView(view.balance) };
    },
  );

  app.post(
    '/v1/teams/:teamId/members/:userId/credit-purchases',
    { schema: { params: memberParams, body: purchaseBody }, onRequest: guard('billing') },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const body = req.body as { purchaseId: string; credits: unknown };
      const plan = await planOf(teamId);
      if (!plan.purchasesAllowed) {
        throw new ApiError(422, 'not_allowed', `plan ${plan.planId} does not allow credit purchases`);
      }
      const millicredits = parseAmount(body.credits, plan.maxPurchase);
      await requireActiveMember(teamId, userId);
      const r = await deps.credits.purchase(teamId, userId, body.purchaseId, millicredits);
      // Recorded once, whichever attempt answered first (a retry finds the event by its key).
      await deps.audit.record({
        teamId,
        ...actorOf(req.principal),
        action: 'credits.purchased',
        target: `member:${userId}`,
        after: { purchaseId: r.purchaseId, credits: formatCredits(r.millicredits), amountMinor: r.amountMinor },
        eventKey: `purchase:${teamId}/${userId}/${r.purchaseId}`,
      });
      return reply.status(r.duplicate ? 200 : 201).send({
        purchaseId: r.purchaseId,
        credits: formatCredits(r.millicredits),
        price: { amountMinor: r.amountMinor, currency: r.currency },
        balance: balanceView(r.balance),
      });
    },
  );
}
