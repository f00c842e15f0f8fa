/**
 * Reserve, then settle (spec §14): Agent Mode sets aside the most an action may cost, runs it, then settles the
 * real cost (recorded as a consumption) or releases the hold. Each call is idempotent by its ids; the workflow
 * releases a hold nobody settled at its `expiresAt`.
 */
import { AGENT_ACTIONS } from '../../../workflows/domain/plans';
import { DEFAULT_RESERVATION_TTL_MS, MAX_RESERVATION_TTL_MS } from '../../../workflows/member-credits/state';
import type { RouteContext } from '../context';
import { balance, creditsIn, creditsOut, key, memberParams } from '../schemas';
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

const charged = {
  type: 'object',
  properties: { total: creditsOut, allowance: creditsOut, purchased: creditsOut, payg: creditsOut },
  required: ['total', 'allowance', 'purchased', 'payg'],
} as const;

const reserveResponse = {
  type: 'object',
  properties: {
    reservationId,
    status: { type: 'string', enum: ['held'] },
    decision: { type: 'string', enum: ['refused'] },
    reason: { type: 'string' },
    held: creditsOut,
    heldFrom: charged,
    expiresAt: { type: 'string', format: 'date-time' },
    balance,
  },
  required: ['balance'],
} as const;

export function reservationRoutes({ app, deps, guard, metrics }: RouteContext): void {
  const base = '/v1/teams/:teamId/members/:userId/reservations';

  app.post(
    base,
    {
      schema: { params: memberParams, body: reserveBody, response: { 200: reserveResponse, 402: reserveResponse } },
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
    { schema: { params: reservationParams, body: settleBody }, onRequest: guard('agent', 'self') },
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
    { schema: { params: reservationParams }, onRequest: guard('agent', 'self') },
    async (req) => {
      const {
        teamId,
        userId,
        reservationId: id,
      } = req.params as { teamId: string; userId: string; reservationId: string };
      const r = await deps.credits.release(teamId, userId, id);
      if (!r.duplicate) metrics.reservations.inc({ event: r.how === 'expired' ? 'expired' : 'released' });
      return { reservationId: id, status: 'released', expired: r.how === 'expired', balance: balanceView(r.balance) };
    },
  );
}
