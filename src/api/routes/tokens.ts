/**
 * Bearer tokens (spec §17): issued by provisioning with a label and a lifetime, listed to a team's admins (never the
 * secret), revoked one by one by provisioning or an admin of the token's team; a revocation reaches every API
 * instance within a second (access-change-store.ts). A service token acts for the team it names, or for every team
 * only when `scope: "global"` was asked for.
 */
import { badRequest, forbidden, notFound } from '../../errors';
import { DEFAULT_TOKEN_TTL_DAYS, MAX_TOKEN_TTL_DAYS, type TokenInfo } from '../../db/token-store';
import { actorOf } from '../auth';
import type { RouteContext } from '../context';
import { described, errorResponses, id, idCursor, noContent, pageQuery, pageSize, teamParams } from '../schemas';
import { iso } from '../views';

const TOKEN_ID_PATTERN = '^tok_[0-9a-f]{20}$';

const tokenBody = {
  type: 'object',
  properties: {
    userId: id,
    teamId: id,
    service: { type: 'string', enum: ['agent', 'finance'] },
    scope: {
      type: 'string',
      enum: ['team', 'global'],
      description: 'Service tokens: "global" acts for every team and must be asked for; the default is the team given',
    },
    label: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
    ttlDays: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_TOKEN_TTL_DAYS,
      description: `Lifetime in days (default ${DEFAULT_TOKEN_TTL_DAYS})`,
    },
  },
  additionalProperties: false,
} as const;

const tokenParams = {
  type: 'object',
  properties: { tokenId: { type: 'string', pattern: TOKEN_ID_PATTERN } },
  required: ['tokenId'],
  additionalProperties: false,
} as const;

const tokenListQuery = {
  type: 'object',
  properties: { limit: pageQuery.properties.limit, cursor: idCursor },
  additionalProperties: false,
} as const;

interface TokenBody {
  userId?: string;
  teamId?: string;
  service?: 'agent' | 'finance';
  scope?: 'team' | 'global';
  label?: string;
  ttlDays?: number;
}

/** A token as anyone may see it: never the secret, nor its hash. */
export function tokenView(t: TokenInfo, now = Date.now()) {
  return {
    tokenId: t.tokenId,
    label: t.label,
    kind: t.kind,
    scope: t.teamId === null ? 'global' : 'team',
    teamId: t.teamId,
    owner: t.kind === 'member' ? { userId: t.userId } : { service: t.service },
    status: t.revokedAt !== null ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
    createdAt: iso(t.createdAt),
    createdBy: t.createdBy,
    lastUsedAt: t.lastUsedAt === null ? null : iso(t.lastUsedAt),
    expiresAt: iso(t.expiresAt),
    revokedAt: t.revokedAt === null ? null : iso(t.revokedAt),
  };
}

export function tokenRoutes({ app, deps, guard, auth, loadTeam }: RouteContext): void {
  const issueSchema = {
    summary: 'Issue a token',
    operationId: 'issueToken',
    tags: ['tokens'],
    description:
      'Provisioning only. A member token acts as that member; a service token (`agent` or `finance`) acts for the ' +
      'team it names, or for every team with `scope: "global"`.',
    body: tokenBody,
    response: {
      201: described('The token: its secret `token` is in this answer only'),
      ...errorResponses({ 400: true, 404: 'No such team, or no such member in it (`not_found`)', 413: true }),
    },
  };
  app.post('/v1/tokens', { schema: issueSchema, onRequest: guard('provisioning') }, async (req, reply) => {
    const body = req.body as TokenBody;
    const subject = await subjectOf(body);
    const issued = await deps.transaction(async (s) => {
      const made = await s.tokens.create(subject, {
        label: body.label,
        ttlDays: body.ttlDays,
        createdBy: actorOf(req.principal).actor,
      });
      await s.audit.record({
        teamId: made.info.teamId,
        ...actorOf(req.principal),
        action: 'token.issued',
        target: `token:${made.info.tokenId}`,
        before: null,
        after: tokenView(made.info),
      });
      return made;
    });
    const t = issued.info;
    return reply.status(201).send({
      tokenId: t.tokenId,
      token: issued.token,
      expiresAt: iso(t.expiresAt),
      label: t.label,
      kind: t.kind,
      scope: t.teamId === null ? 'global' : 'team',
      teamId: t.teamId,
      ...(t.kind === 'member' ? { userId: t.userId } : { service: t.service }),
    });
  });

  /** Who a token is to stand for; every ambiguity is a 400, an unknown team or member a 404. */
  async function subjectOf(body: TokenBody) {
    if (body.service) {
      if (body.userId) throw badRequest('give either userId (with teamId) or service, not both');
      if (body.scope === 'global') {
        if (body.teamId) throw badRequest('a global service token names no teamId');
        return { kind: 'service' as const, service: body.service, teamId: null };
      }
      if (!body.teamId) {
        throw badRequest('a service token needs the teamId it acts for, or scope: "global" to act for every team');
      }
      await loadTeam(body.teamId);
      return { kind: 'service' as const, service: body.service, teamId: body.teamId };
    }
    if (body.scope === 'global') throw badRequest('only service tokens can be global; a member acts within their team');
    if (!body.userId || !body.teamId) throw badRequest('a member token needs teamId and userId');
    const member = await deps.teams.getMember(body.teamId, body.userId);
    if (!member || member.status !== 'active') throw notFound(`member ${body.userId} not found in team ${body.teamId}`);
    return { kind: 'member' as const, teamId: body.teamId, userId: body.userId };
  }

  app.delete(
    '/v1/tokens/:tokenId',
    {
      schema: {
        summary: 'Revoke a token',
        operationId: 'revokeToken',
        tags: ['tokens'],
        description:
          "Provisioning, or an admin of the token's team (a Billing member's token only by Billing). Every API " +
          'instance refuses the token within a second.',
        params: tokenParams,
        response: {
          204: noContent('Revoked (also when revoked before)'),
          ...errorResponses({ 400: true, 404: 'No such token, or not one of your team (`not_found`)' }),
        },
      },
      onRequest: guard('provisioning', 'admin'),
    },
    async (req, reply) => {
      const { tokenId } = req.params as { tokenId: string };
      const p = req.principal;
      const revokedNow = await deps.transaction(async (s) => {
        const token = await s.tokens.get(tokenId, { forUpdate: true });
        // An admin sees only the tokens of their own team; any other answers exactly like a token that does not exist.
        if (!token || (p.kind === 'member' && token.teamId !== p.teamId)) throw notFound(`token ${tokenId} not found`);
        if (p.kind === 'member' && token.kind === 'member' && !p.roles.includes('billing')) {
          const owner = await s.teams.getMember(token.teamId!, token.userId!);
          if (owner?.status === 'active' && owner.roles.includes('billing')) {
            throw forbidden("only provisioning or a Billing member may revoke a Billing member's token");
          }
        }
        if (!(await s.tokens.revoke(tokenId))) return false;
        const after = await s.tokens.get(tokenId);
        await s.audit.record({
          teamId: token.teamId,
          ...actorOf(p),
          action: 'token.revoked',
          target: `token:${tokenId}`,
          before: tokenView(token),
          after: tokenView(after!),
        });
        await s.changes.publish({ kind: 'token', tokenId });
        return true;
      });
      if (revokedNow) auth.forgetToken(tokenId);
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/teams/:teamId/tokens',
    {
      schema: {
        summary: "List a team's tokens",
        operationId: 'listTeamTokens',
        tags: ['tokens'],
        description: 'Provisioning or a team admin: label, owner, created, last used, expiry; never the secret.',
        params: teamParams,
        querystring: tokenListQuery,
        response: { 200: described('A page of tokens, oldest first'), ...errorResponses({ 400: true, 404: true }) },
      },
      onRequest: guard('provisioning', 'admin'),
    },
    async (req) => {
      const { teamId } = req.params as { teamId: string };
      const { limit, cursor } = req.query as { limit?: string; cursor?: string };
      await loadTeam(teamId);
      const page = await deps.tokens.listTeam(teamId, {
        after: cursor === undefined ? undefined : Number(cursor),
        limit: pageSize(limit),
      });
      const now = Date.now();
      return {
        teamId,
        tokens: page.tokens.map((t) => tokenView(t, now)),
        nextCursor: page.next === null ? null : String(page.next),
      };
    },
  );
}
