/** Agent Mode's credit check: one consumption, answered allowed, allowed with PAYG, or refused. */
import { formatCredits } from '../../../workflows/domain/credits';
import { AGENT_ACTIONS } from '../../../workflows/domain/plans';
import type { Charged } from '../../../workflows/member-credits/types';
import type { ConsumeAnswer } from '../../db/credit-store';
import type { RouteContext } from '../context';
import { balance, charged, creditsIn, errorResponses, key, memberParams } from '../schemas';
import { balanceView, parseAmount } from '../views';

const consumeBody = {
  type: 'object',
  properties: { requestId: key, action: { type: 'string', enum: [...AGENT_ACTIONS] }, credits: creditsIn },
  required: ['requestId', 'action', 'credits'],
  additionalProperties: false,
} as const;

const consumeResponse = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: ['allowed', 'allowed_payg', 'refused'] },
    reason: { type: 'string', enum: ['paused', 'insufficient_credits', 'payg_cap_reached', 'team_payg_cap_reached'] },
    charged,
    balance,
  },
  required: ['decision', 'balance'],
} as const;

export function consumptionRoutes({ app, deps, guard, metrics }: RouteContext): void {
  app.post(
    '/v1/teams/:teamId/members/:userId/consumptions',
    {
      schema: {
        summary: 'Record a consumption',
        operationId: 'consume',
        tags: ['credits'],
        description:
          'The agent service or the member. Answers at once whether the action is allowed (from credits, or billed ' +
          'as pay-as-you-go) or refused (402: nothing recorded). `requestId` makes it idempotent: the same id again ' +
          'answers the first answer.',
        params: memberParams,
        body: consumeBody,
        response: {
          200: {
            ...consumeResponse,
            description: 'Allowed: from credits (`allowed`) or billed as PAYG (`allowed_payg`)',
          },
          402: {
            ...consumeResponse,
            description:
              'Refused (`paused`, `insufficient_credits`, `payg_cap_reached`, `team_payg_cap_reached`): nothing recorded',
          },
          ...errorResponses({
            400: true,
            404: true,
            409: 'This requestId was used before with another action or amount (`idempotency_key_reused`)',
            413: true,
          }),
        },
      },
      onRequest: guard('agent', 'self'),
    },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const body = req.body as { requestId: string; action: string; credits: unknown };
      const millicredits = parseAmount(body.credits);
      const result = await deps.credits.consume(teamId, userId, {
        requestId: body.requestId,
        action: body.action,
        millicredits,
      });
      metrics.consumptions.inc({ decision: result.decision });
      return reply.status(result.decision === 'refused' ? 402 : 200).send(consumeView(result));
    },
  );
}

/** How an amount was paid for: from the allowance, purchased credits and PAYG, as decimal credits. */
export function chargedView(c: Charged) {
  return {
    total: formatCredits(c.allowance + c.purchased + c.payg),
    allowance: formatCredits(c.allowance),
    purchased: formatCredits(c.purchased),
    payg: formatCredits(c.payg),
  };
}

function consumeView(r: ConsumeAnswer) {
  return {
    decision: r.decision,
    ...(r.reason ? { reason: r.reason } : {}),
    charged: chargedView(r.charged),
    balance: balanceView(r.balance),
  };
}
