/** The caller's own identity and in-product alerts (member tokens). */
import { forbidden } from '../../errors';
import type { RouteContext } from '../context';

export function meRoutes({ app, deps, guard }: RouteContext): void {
  app.get('/v1/me/alerts', { onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('alerts belong to members; use a member token');
    const alerts = await deps.notifications.alertsFor(p.teamId, p.userId);
    return { alerts: alerts.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })) };
  });

  app.get('/v1/me', { onRequest: guard('anyMember') }, async (req) => {
    const p = req.principal;
    if (p.kind !== 'member') throw forbidden('use a member token');
    const member = await deps.teams.getMember(p.teamId, p.userId);
    return { teamId: p.teamId, userId: p.userId, email: member?.email ?? null, roles: p.roles };
  });
}
