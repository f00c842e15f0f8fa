/** The append-only credit ledger of a team (finance). */
import { formatCredits } from '../../../workflows/domain/credits';
import { badRequest } from '../../errors';
import type { RouteContext } from '../context';
import { id, teamParams } from '../schemas';
import { iso } from '../views';

const ledgerQuery = {
  type: 'object',
  properties: { periodStart: { type: 'string', format: 'date-time' }, userId: id },
  additionalProperties: false,
} as const;

export function ledgerRoutes({ app, deps, guard, loadTeam }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/ledger',
    { schema: { params: teamParams, querystring: ledgerQuery }, onRequest: guard('finance') },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const q = req.query as { periodStart?: string; userId?: string };
      await loadTeam(teamId);
      const periodStart = q.periodStart === undefined ? undefined : Date.parse(q.periodStart);
      if (periodStart !== undefined && Number.isNaN(periodStart)) throw badRequest('periodStart must be a date-time');
      const rows = await deps.ledger.list({ teamId, userId: q.userId, periodStart });
      return {
        entries: rows.map((r) => ({
          id: r.id,
          userId: r.userId,
          kind: r.kind,
          credits: formatCredits(r.millicredits),
          amount: r.amountMinor === undefined ? null : { amountMinor: r.amountMinor, currency: r.currency },
          periodStart: iso(r.periodStart),
          periodEnd: iso(r.periodEnd),
          requestId: r.requestId ?? null,
          action: r.action ?? null,
          occurredAt: iso(r.occurredAt),
          workflowId: r.workflowId,
          runId: r.runId,
        })),
      };
    },
  );
}
