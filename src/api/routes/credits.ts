/** A member's credits: the balance, the PAYG switch (Billing) and credit purchases (Billing, paid plans). */
import { formatCredits } from '../../../workflows/domain/credits';
import { MEMBER_NOTIFICATION_KINDS } from '../../../workflows/member-credits/types';
import { ApiError, notFound } from '../../errors';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import {
  balance,
  capMinor,
  creditsIn,
  creditsOut,
  errorResponses,
  id,
  key,
  memberParams,
  money,
  planTerms,
} from '../schemas';
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

const memberCreditsResponse = {
  type: 'object',
  properties: {
    teamId: id,
    userId: id,
    plan: { type: 'string' },
    planTerms,
    notificationsSent: {
      type: 'array',
      items: { type: 'string', enum: [...MEMBER_NOTIFICATION_KINDS] },
      description: 'The notifications sent to the member this period',
    },
    balance,
  },
  required: ['teamId', 'userId', 'plan', 'planTerms', 'notificationsSent', 'balance'],
} as const;

const memberBalanceResponse = {
  type: 'object',
  properties: { teamId: id, userId: id, balance },
  required: ['teamId', 'userId', 'balance'],
} as const;

const purchaseResponse = {
  type: 'object',
  properties: { purchaseId: key, credits: creditsOut, price: money, balance },
  required: ['purchaseId', 'credits', 'price', 'balance'],
} as const;

export function creditRoutes({ app, deps, guard, planOf, requireActiveMember }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/members/:userId/credits',
    {
      schema: {
        summary: "Read a member's credits",
        operationId: 'getMemberCredits',
        tags: ['credits'],
        description: 'The member, a team admin, Billing or finance: the live balance of the current period.',
        params: memberParams,
        response: {
          200: { ...memberCreditsResponse, description: 'The balance, the plan and the notifications sent' },
          ...errorResponses({ 400: true, 404: true }),
        },
      },
      onRequest: guard('self', 'admin', 'billing', 'finance'),
    },
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
    {
      schema: {
        summary: 'Turn pay-as-you-go on or off for a member',
        operationId: 'setPayg',
        tags: ['credits'],
        description:
          'Billing only. Off while in overage pauses the member at once; on resumes at once. `monthlyCapMinor` caps ' +
          "the member's PAYG charges of a period (null: no cap; absent: unchanged): past it, consumptions and " +
          'reservations are refused with `payg_cap_reached`.',
        params: memberParams,
        body: paygBody,
        response: {
          200: { ...memberBalanceResponse, description: 'The balance after the change' },
          ...errorResponses({
            400: true,
            404: true,
            413: true,
            422: "Pay-as-you-go is not available on the team's plan (`not_allowed`)",
          }),
        },
      },
      onRequest: guard('billing'),
    },
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
    {
      schema: {
        summary: 'Buy credits for a member',
        operationId: 'purchaseCredits',
        tags: ['credits'],
        description:
          'Billing only, on plans that sell credits. Added to the current period, spent after the allowance, charged ' +
          'on the open invoice at once. `purchaseId` makes it idempotent.',
        params: memberParams,
        body: purchaseBody,
        response: {
          200: { ...purchaseResponse, description: 'This purchaseId was recorded before: its first answer' },
          201: { ...purchaseResponse, description: 'Bought: the credits, their price and the balance' },
          ...errorResponses({
            400: true,
            404: true,
            409: 'This purchaseId was used before with another amount (`idempotency_key_reused`)',
            413: true,
            422: "The team's plan does not sell credits (`not_allowed`)",
          }),
        },
      },
      onRequest: guard('billing'),
    },
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
