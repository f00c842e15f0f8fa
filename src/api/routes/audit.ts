/**
 * A team's audit trail (spec §15): who did what and when, a page at a time (Admin, Billing, finance). Oldest first as
 * the spec has it; `order=newest` reads it from the latest event back (the dashboard's view, "load more" with the
 * cursor).
 */
import { badRequest } from '../../errors';
import type { AuditEvent } from '../../db/audit-store';
import type { RouteContext } from '../context';
import { described, errorResponses, idCursor, pageQuery, pageSize, teamParams } from '../schemas';
import { iso } from '../views';

const auditQuery = {
  type: 'object',
  properties: {
    after: {
      anyOf: [idCursor, { type: 'string', format: 'date-time' }],
      description: 'Events after this event id, or from this instant on (ISO 8601)',
    },
    cursor: idCursor,
    limit: pageQuery.properties.limit,
    order: {
      type: 'string',
      enum: ['oldest', 'newest'],
      description: 'oldest (default): from the first event on; newest: from the latest back, `after` still bounding it',
    },
  },
  additionalProperties: false,
} as const;

export function auditView(e: AuditEvent) {
  return {
    id: e.id,
    at: iso(e.at),
    actor: e.actor,
    actorUserId: e.actorUserId,
    action: e.action,
    target: e.target,
    before: e.before,
    after: e.after,
  };
}

export function auditRoutes({ app, deps, guard, loadTeam }: RouteContext): void {
  app.get(
    '/v1/teams/:teamId/audit',
    {
      schema: {
        summary: "Read a team's audit trail",
        operationId: 'listAudit',
        tags: ['audit'],
        description:
          'A team admin, Billing or finance: members added, changed or removed, tokens issued and revoked, PAYG ' +
          'toggled, caps set, credits bought; oldest first. Never a token itself.',
        params: teamParams,
        querystring: auditQuery,
        response: { 200: described('A page of events, oldest first'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: guard('admin', 'billing', 'finance'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const q = req.query as { after?: string; cursor?: string; limit?: string; order?: 'oldest' | 'newest' };
      const newestFirst = q.order === 'newest';
      if (!newestFirst && q.after !== undefined && q.cursor !== undefined)
        throw badRequest('give after or cursor, not both');
      await loadTeam(teamId);
      // Oldest first, the cursor and `after` say the same (events after this one); newest first, the cursor is where
      // the previous page ended and `after` is the lower bound.
      const from = newestFirst ? q.after : (q.cursor ?? q.after);
      const byId = from !== undefined && /^[0-9]+$/.test(from);
      const since = from !== undefined && !byId ? Date.parse(from) : undefined;
      if (since !== undefined && Number.isNaN(since)) throw badRequest('after must be an event id or a date-time');
      const page = await deps.audit.page(teamId, {
        after: byId ? Number(from) : undefined,
        since,
        before: newestFirst && q.cursor !== undefined ? Number(q.cursor) : undefined,
        newestFirst,
        limit: pageSize(q.limit),
      });
      return {
        teamId,
        events: page.events.map(auditView),
        nextCursor: page.next === null ? null : String(page.next),
      };
    },
  );
}
