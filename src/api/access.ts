/**
 * Who may call a route (spec §11): every route names the kinds of caller it admits; a member acts within their
 * own team only, and another team's resources answer 404 (their existence is not revealed). Each authenticated
 * caller is rate-limited per token (spec §17) before anything else is decided.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, forbidden, notFound } from '../errors';
import type { Authenticator, Principal } from './auth';

export type Access = 'provisioning' | 'agent' | 'finance' | 'self' | 'admin' | 'billing' | 'anyMember';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export type Guard = (...allowed: Access[]) => (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** What @fastify/rate-limit's `createRateLimit` answers for one request. */
export interface RateLimitResult {
  isAllowed: boolean;
  isExceeded: boolean;
  max: number;
  remaining: number;
  ttlInSeconds: number;
}
export type RateLimiter = (req: FastifyRequest) => Promise<RateLimitResult>;

/** The rate-limit key of a caller: its token id, so a token's limit is the same whichever address it comes from. */
export function rateLimitKey(p: Principal): string {
  return p.kind === 'provisioning' ? 'provisioning' : p.tokenId;
}

/** An `onRequest` hook factory: authenticate, count the request against the token's limit, then authorize. */
export function createGuard(auth: Authenticator, limit?: RateLimiter): Guard {
  return (...allowed) =>
    async (req, reply) => {
      req.principal = await auth.authenticate(req.headers.authorization);
      if (limit) {
        const r = await limit(req);
        if (!r.isAllowed) {
          reply.header('x-ratelimit-limit', r.max);
          reply.header('x-ratelimit-remaining', r.remaining);
          reply.header('x-ratelimit-reset', r.ttlInSeconds);
        }
        if (r.isExceeded) {
          const retryAfter = Math.max(1, r.ttlInSeconds);
          reply.header('retry-after', retryAfter);
          throw new ApiError(
            429,
            'rate_limited',
            `this token sent more than ${r.max} requests this minute; retry in ${retryAfter} s`,
          );
        }
      }
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
