/** The caller's own identity and in-product alerts (member tokens). */
import { forbidden } from '../../errors';
import type { RouteContext } from '../context';
import { described, errorResponses, idCursor, pageQuery, pageSize } from '../schemas';

const alertsQuery = {
  type: 'object',
  properties: { limit: pageQuery.properties.limit, cursor: idCursor },
  additionalProperties: false,
} as const;

export function meRoutes({ app, deps, guard }: RouteContext): void {
  const alertsSchema = {
    summary: 'My in-product alerts',
    operationId: 'listMyAlerts',
    tags: ['me'],
    description: "A member token: the caller's alerts (75 %, 100 %, PAYG started), newest first.",
    querystring: alertsQuery,
    response: { 200: described('A page of alerts, newest first'), ...errorResponses({ 400: true }) },
  };
  app.get('/v1/me/alerts', { schema: alertsSchema, onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('alerts belong to members; use a member token');
    const { limit, cursor } = req.query as { limit?: string; cursor?: string };
    const page = await deps.notifications.alertsPage(p.teamId, p.userId, {
      before: cursor === undefined ? undefined : Number(cursor),
      limit: pageSize(limit),
    });
    return {
      alerts: page.alerts.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })),
      nextCursor: page.next === null ? null : String(page.next),
    };
  });

  const meSchema = {
    summary: 'Who am I',
    operationId: 'getMe',
    tags: ['me'],
    description: "A member token: the caller's team, user id, email and roles.",
    response: { 200: described("The caller's identity"), ...errorResponses() },
  };
  app.get('/v1/me', { schema: meSchema, onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('use a member token');
    const member = await deps.teams.getMember(p.teamId, p.userId);
    return { teamId: p.teamId, userId: p.userId, email: member?.email ?? null, roles: p.roles };
  });
}
