import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export type ServiceName = 'agent' | 'finance';

export type TokenSubject =
  { kind: 'member'; teamId: string; userId: string } | { kind: 'service'; service: ServiceName; teamId: string | null };

/** A token as its holder's checks need it: whom it stands for, until when, and whether it was revoked. */
export type ResolvedToken = TokenSubject & { tokenId: string; expiresAt: number; revokedAt: number | null };

/** A token as listed to admins and written in the audit trail: everything but the secret. */
export interface TokenInfo {
  tokenId: string;
  kind: 'member' | 'service';
  teamId: string | null;
  userId: string | null;
  service: ServiceName | null;
  label: string | null;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface IssuedToken {
  /** The secret: shown once, to whoever asked for it; only its SHA-256 is stored. */
  token: string;
  info: TokenInfo;
}

export const DEFAULT_TOKEN_TTL_DAYS = 90;
export const MAX_TOKEN_TTL_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

interface TokenRow {
  token_hash: string;
  token_id: string;
  seq: number;
  kind: 'member' | 'service';
  team_id: string | null;
  user_id: string | null;
  service: ServiceName | null;
  label: string | null;
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer tokens. Only the SHA-256 of a token is stored; lookup is by that hash (an index probe on a hash
 * leaks nothing useful about the token, so no secret is ever compared byte by byte). Rows are never deleted:
 * a revoked token keeps its row, so the token list and the audit trail can still name it.
 */
export class TokenStore {
  constructor(private readonly db: Knex) {}

  /** A new token; `ttlDays` defaults to 90 and is at most 365. */
  async create(
    subject: TokenSubject,
    opts: { label?: string | null; ttlDays?: number; createdBy?: string } = {},
  ): Promise<IssuedToken> {
    const ttlDays = opts.ttlDays ?? DEFAULT_TOKEN_TTL_DAYS;
    if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > MAX_TOKEN_TTL_DAYS) {
      throw new RangeError(`ttlDays must be an integer from 1 to ${MAX_TOKEN_TTL_DAYS}`);
    }
    const token = `aic_${randomBytes(32).toString('base64url')}`;
    const [row] = await this.db<TokenRow>('api_tokens')
      .insert({
        token_hash: hashToken(token),
        token_id: `tok_${randomBytes(10).toString('hex')}`,
        kind: subject.kind,
        team_id: subject.teamId,
        user_id: subject.kind === 'member' ? subject.userId : null,
        service: subject.kind === 'service' ? subject.service : null,
        label: opts.label ?? null,
        created_by: opts.createdBy ?? null,
        expires_at: new Date(Date.now() + ttlDays * DAY_MS),
      })
      .returning('*');
    return { token, info: toInfo(row) };
  }

  /** The secret only, with the default lifetime (tests, the bench). */
  async issue(subject: TokenSubject): Promise<string> {
    return (await this.create(subject)).token;
  }

  async lookup(token: string): Promise<ResolvedToken | null> {
    const row = await this.db<TokenRow>('api_tokens').where('token_hash', hashToken(token)).first();
    if (!row) return null;
    const lifetime = {
      tokenId: row.token_id,
      expiresAt: row.expires_at.getTime(),
      revokedAt: row.revoked_at ? row.revoked_at.getTime() : null,
    };
    return row.kind === 'member'
      ? { kind: 'member', teamId: row.team_id!, userId: row.user_id!, ...lifetime }
      : { kind: 'service', service: row.service!, teamId: row.team_id, ...lifetime };
  }

  async get(tokenId: string, opts: { forUpdate?: boolean } = {}): Promise<TokenInfo | null> {
    const q = this.db<TokenRow>('api_tokens').where('token_id', tokenId).first();
    if (opts.forUpdate) q.forUpdate();
    const row = await q;
    return row ? toInfo(row) : null;
  }

  /** Marks the token revoked; false when it was revoked already. */
  async revoke(tokenId: string): Promise<boolean> {
    const n = await this.db('api_tokens')
      .where('token_id', tokenId)
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() });
    return n > 0;
  }

  /** A removed member's tokens stop working for good (re-adding the member does not revive them). */
  async revokeMember(teamId: string, userId: string): Promise<string[]> {
    const rows: { token_id: string }[] = await this.db('api_tokens')
      .where({ kind: 'member', team_id: teamId, user_id: userId })
      .whereNull('revoked_at')
      .update({ revoked_at: this.db.fn.now() })
      .returning('token_id');
    return rows.map((r) => r.token_id);
  }

  /**
   * A team's tokens (its members' and the service tokens scoped to it), oldest first, revoked and expired ones
   * included; `after` is the `nextCursor` of the previous page.
   */
  async listTeam(
    teamId: string,
    page: { after?: number; limit: number },
  ): Promise<{ tokens: TokenInfo[]; next: number | null }> {
    const q = this.db<TokenRow>('api_tokens')
      .where('team_id', teamId)
      .orderBy('seq')
      .limit(page.limit + 1);
    if (page.after !== undefined) q.andWhere('seq', '>', page.after);
    const rows = await q;
    const shown = rows.slice(0, page.limit);
    return { tokens: shown.map(toInfo), next: rows.length > page.limit ? shown[shown.length - 1].seq : null };
  }

  /**
   * Last use, at minute precision: one UPDATE for a batch of tokens, skipping those written less than a minute
   * ago (by this API instance or another), so busy tokens cost about one write a minute whatever their traffic.
   */
  async touch(tokenIds: readonly string[]): Promise<void> {
    if (tokenIds.length === 0) return;
    await this.db('api_tokens')
      .whereIn('token_id', tokenIds)
      .andWhere((w) =>
        w.whereNull('last_used_at').orWhere('last_used_at', '<', this.db.raw("now() - interval '1 minute'")),
      )
      .update({ last_used_at: this.db.fn.now() });
  }
}

function toInfo(r: TokenRow): TokenInfo {
  return {
    tokenId: r.token_id,
    kind: r.kind,
    teamId: r.team_id,
    userId: r.user_id,
    service: r.service,
    label: r.label,
    createdBy: r.created_by,
    createdAt: r.created_at.getTime(),
    expiresAt: r.expires_at.getTime(),
    revokedAt: r.revoked_at ? r.revoked_at.getTime() : null,
    lastUsedAt: r.last_used_at ? r.last_used_at.getTime() : null,
  };
}
