/** A team's audit trail (spec §15): who did what and when, oldest first, a page at a time (Admin, Billing, finance). */
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
      const q = req.query as { after?: string; cursor?: string; limit?: string };
      if (q.after !== undefined && q.cursor !== undefined) throw badRequest('give after or cursor, not both');
      await loadTeam(teamId);
      const position = q.cursor ?? q.after;
      const byId = position !== undefined && /^[0-9]+$/.test(position);
      const since = position !== undefined && !byId ? Date.parse(position) : undefined;
      if (since !== undefined && Number.isNaN(since)) throw badRequest('after must be an event id or a date-time');
      const page = await deps.audit.page(teamId, {
        after: byId ? Number(position) : undefined,
        since,
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
