/**
 * Who may call a route (spec §11): every route names the kinds of caller it admits; a member acts within their
 * own team only, and another team's resources answer 404 (their existence is not revealed).
 */
import type { FastifyRequest } from 'fastify';
import { forbidden, notFound } from '../errors';
import type { Authenticator, Principal } from './auth';

export type Access = 'provisioning' | 'agent' | 'finance' | 'self' | 'admin' | 'billing' | 'anyMember';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export type Guard = (...allowed: Access[]) => (req: FastifyRequest) => Promise<void>;

/** An `onRequest` hook factory: authenticate, then check the principal may act on this team (and member). */
export function createGuard(auth: Authenticator): Guard {
  return (...allowed) =>
    async (req) => {
      req.principal = await auth.authenticate(req.headers.authorization);
      const { teamId, userId } = (req.params ?? {}) as { teamId?: string; userId?: string };
      authorize(req.principal, allowed, teamId, userId);
    };
}

function authorize(p: Principal, allowed: Access[], teamId?: string, userId?: string): void {
  switch (p.kind) {
    case 'provisioning':
      if (!allowed.includes('provisioning')) throw forbidden();
      return;
    case 'service':
      if (teamId && p.teamId && p.teamId !== teamId) throw notFound(`team ${teamId} not found`);
      if (!allowed.includes(p.service)) throw forbidden();
      return;
    case 'member': {
      if (teamId && p.teamId !== teamId) throw notFound(`team ${teamId} not found`);
      if (allowed.includes('anyMember')) return;
      if (allowed.includes('self') && userId === p.userId) return;
      if (p.roles.some((r) => allowed.includes(r as Access))) return;
      throw forbidden();
    }
  }
}
