/**
 * Reserve, then settle (spec §14): Agent Mode sets aside the most an action may cost, runs it, then settles the
 * real cost (recorded as a consumption) or releases the hold. Each call is idempotent by its ids; the workflow
 * releases a hold nobody settled at its `expiresAt`.
 */
import { AGENT_ACTIONS } from '../../../workflows/domain/plans';
import { DEFAULT_RESERVATION_TTL_MS, MAX_RESERVATION_TTL_MS } from '../../../workflows/member-credits/state';
import type { RouteContext } from '../context';
import { balance, charged, creditsIn, creditsOut, errorResponses, key, memberParams } from '../schemas';
import { balanceView, iso, parseAmount } from '../views';
import { chargedView } from './consumptions';

const reservationId = { ...key, maxLength: 120 } as const;
const reservationParams = {
  type: 'object',
  properties: { ...memberParams.properties, reservationId },
  required: ['teamId', 'userId', 'reservationId'],
  additionalProperties: false,
} as const;

const reserveBody = {
  type: 'object',
  properties: {
    reservationId,
    action: { type: 'string', enum: [...AGENT_ACTIONS] },
    credits: creditsIn,
    ttlSeconds: { type: 'integer', minimum: 1, maximum: MAX_RESERVATION_TTL_MS / 1000, default: 300 },
  },
  required: ['reservationId', 'action', 'credits'],
  additionalProperties: false,
} as const;

const settleBody = {
  type: 'object',
  properties: { credits: creditsIn },
  required: ['credits'],
  additionalProperties: false,
} as const;

const heldResponse = {
  type: 'object',
  properties: {
    reservationId,
    status: { type: 'string', enum: ['held'] },
    held: creditsOut,
    heldFrom: { ...charged, description: 'Where the held credits come from, in the spending order' },
    expiresAt: { type: 'string', format: 'date-time', description: 'Released by the workflow then, unless settled' },
    balance,
  },
  required: ['reservationId', 'status', 'held', 'heldFrom', 'expiresAt', 'balance'],
} as const;

const refusedResponse = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: ['refused'] },
    reason: { type: 'string', enum: ['paused', 'insufficient_credits', 'payg_cap_reached', 'team_payg_cap_reached'] },
    balance,
  },
  required: ['decision', 'reason', 'balance'],
} as const;

const settledResponse = {
  type: 'object',
  properties: {
    reservationId,
    status: { type: 'string', enum: ['settled'] },
    decision: { type: 'string', enum: ['allowed', 'allowed_payg'] },
    charged,
    balance,
  },
  required: ['reservationId', 'status', 'decision', 'charged', 'balance'],
} as const;

const releasedResponse = {
  type: 'object',
  properties: {
    reservationId,
    status: { type: 'string', enum: ['released'] },
    expired: { type: 'boolean', description: 'It had expired already: the workflow released it at its expiresAt' },
    balance,
  },
  required: ['reservationId', 'status', 'expired', 'balance'],
} as const;

/** Settling or releasing what is no longer held (spec §14). */
const NOT_HELD =
  'The reservation is no longer held (`reservation_not_held`): released, expired, or settled with another amount ' +
  '(`idempotency_key_reused`)';

export function reservationRoutes({ app, deps, guard, metrics }: RouteContext): void {
  const base = '/v1/teams/:teamId/members/:userId/reservations';

  app.post(
    base,
    {
      schema: {
        summary: 'Reserve credits for an action',
        operationId: 'reserve',
        tags: ['reservations'],
        description:
          'The agent service or the member. Holds up to `credits` for an action whose cost is known only after it ' +
          'ran: they leave `remaining` at once, nothing is charged until settled. Refused (402: nothing held) as a ' +
          'consumption would be. `reservationId` makes it idempotent: the same id again answers the first answer.',
        params: memberParams,
        body: reserveBody,
        response: {
          200: { ...heldResponse, description: 'Held until settled, released, or `expiresAt`' },
          402: {
            ...refusedResponse,
            description:
              'Refused (`paused`, `insufficient_credits`, `payg_cap_reached`, `team_payg_cap_reached`): nothing held',
          },
          ...errorResponses({
            400: true,
            404: true,
            409: 'This reservationId was used before with another action or amount (`idempotency_key_reused`)',
            413: true,
          }),
        },
      },
      onRequest: guard('agent', 'self'),
    },
    async (req, reply) => {
      const { teamId, userId } = req.params as { teamId: string; userId: string };
      const body = req.body as { reservationId: string; action: string; credits: unknown; ttlSeconds?: number };
      const millicredits = parseAmount(body.credits);
      const ttlMs = (body.ttlSeconds ?? DEFAULT_RESERVATION_TTL_MS / 1000) * 1000;
      const r = await deps.credits.reserve(teamId, userId, {
        reservationId: body.reservationId,
        action: body.action,
        millicredits,
        ttlMs,
      });
      metrics.reservations.inc({ event: r.decision === 'held' ? 'held' : 'refused' });
      if (r.decision === 'refused') {
        return reply.status(402).send({ decision: 'refused', reason: r.reason, balance: balanceView(r.balance) });
      }
      return reply.status(200).send({
        reservationId: body.reservationId,
        status: 'held',
        held: chargedView(r.held).total,
        heldFrom: chargedView(r.held),
        expiresAt: iso(r.expiresAt),
        balance: balanceView(r.balance),
      });
    },
  );

  app.post(
    `${base}/:reservationId/settle`,
    {
      schema: {
        summary: 'Settle a reservation at its real cost',
        operationId: 'settleReservation',
        tags: ['reservations'],
        description:
          'Records `credits` (0 ≤ credits ≤ held) as a consumption, with its thresholds, notifications and PAYG ' +
          'charge, and gives the rest back. The same settle again answers the first answer.',
        params: reservationParams,
        body: settleBody,
        response: {
          200: { ...settledResponse, description: 'Settled: what was charged and the balance' },
          ...errorResponses({
            400: 'Bad input (`invalid_request`), e.g. more credits than held',
            404: 'No such team, member or reservation (`not_found`)',
            409: NOT_HELD,
            413: true,
          }),
        },
      },
      onRequest: guard('agent', 'self'),
    },
    async (req) => {
      const {
        teamId,
        userId,
        reservationId: id,
      } = req.params as { teamId: string; userId: string; reservationId: string };
      const millicredits = parseAmount((req.body as { credits: unknown }).credits, undefined, true);
      const r = await deps.credits.settle(teamId, userId, id, millicredits);
      if (!r.duplicate) metrics.reservations.inc({ event: 'settled' });
      return {
        reservationId: id,
        status: 'settled',
        decision: r.decision,
        charged: chargedView(r.charged),
        balance: balanceView(r.balance),
      };
    },
  );

  app.delete(
    `${base}/:reservationId`,
    {
      schema: {
        summary: 'Release a reservation',
        operationId: 'releaseReservation',
        tags: ['reservations'],
        description: 'Gives the held credits back without charging anything. The same release again answers the same.',
        params: reservationParams,
        response: {
          200: { ...releasedResponse, description: 'Released: the balance with the credits back' },
          ...errorResponses({
            400: true,
            404: 'No such team, member or reservation (`not_found`)',
            409: 'The reservation was settled (`reservation_not_held`)',
          }),
        },
      },
      onRequest: guard('agent', 'self'),
    },
    async (req) => {
      const {
        teamId,
        userId,
        reservationId: id,
      } = req.params as { teamId: string; userId: string; reservationId: string };
      const r = await deps.credits.release(teamId, userId, id);
      // An expiry is counted where the workflow decides it (ai_credits_reservations_expired).
      if (!r.duplicate && r.how !== 'expired') metrics.reservations.inc({ event: 'released' });
      return { reservationId: id, status: 'released', expired: r.how === 'expired', balance: balanceView(r.balance) };
    },
  );
}
