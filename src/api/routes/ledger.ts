/** The append-only credit ledger of a team (finance), a page at a time in id order. */
import { formatCredits } from '../../../workflows/domain/credits';
import { badRequest } from '../../errors';
import type { RouteContext } from '../context';
import { described, errorResponses, id, idCursor, teamParams } from '../schemas';
import { iso } from '../views';

/** Larger pages than other lists: finance reads whole periods (the route answered up to 10,000 rows before). */
const MAX_PAGE = 5_000;
const DEFAULT_PAGE = 1_000;

const ledgerQuery = {
  type: 'object',
  properties: {
    periodStart: { type: 'string', format: 'date-time' },
    userId: id,
    limit: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,2}|[1-4][0-9]{3}|5000)$',
      description: `Page size, 1-${MAX_PAGE} (default ${DEFAULT_PAGE})`,
    },
    cursor: idCursor,
  },
  additionalProperties: false,
} as const;

export function ledgerRoutes({ app, deps, guard, loadTeam }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/ledger',
    {
      schema: {
        summary: "Read a team's ledger",
        operationId: 'listLedger',
        tags: ['ledger'],
        description:
          'Finance only: grants, consumption, PAYG, purchases, expiries and adjustments in id order, optionally of ' +
          'one period or member.',
        params: teamParams,
        querystring: ledgerQuery,
        response: { 200: described('A page of ledger rows in id order'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: guard('finance'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const q = req.query as { periodStart?: string; userId?: string; limit?: string; cursor?: string };
      await loadTeam(teamId);
      const periodStart = q.periodStart === undefined ? undefined : Date.parse(q.periodStart);
      if (periodStart !== undefined && Number.isNaN(periodStart)) throw badRequest('periodStart must be a date-time');
      const page = await deps.ledger.page(
        { teamId, userId: q.userId, periodStart },
        {
          after: q.cursor === undefined ? undefined : Number(q.cursor),
          limit: q.limit ? Number(q.limit) : DEFAULT_PAGE,
        },
      );
      return {
        entries: page.entries.map((r) => ({
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
        nextCursor: page.next === null ? null : String(page.next),
      };
    },
  );
}
