import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export type ServiceName = 'agent' | 'finance';

export type TokenSubject =
  { kind: 'member'; teamId: string; userId: string } | { kind: 'service'; service: ServiceName; teamId: string | null };

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer tokens. Only the SHA-256 of a token is stored; lookup is by that hash (an index probe on a hash
 * leaks nothing useful about the token, so no secret is ever compared byte by byte).
 */
export class TokenStore {
  constructor(private readonly db: Knex) {}

  async issue(subject: TokenSubject): Promise<string> {
    const token = `aic_${randomBytes(32).toString('base64url')}`;
    await this.db('api_tokens').insert({
      token_hash: hashToken(token),
      kind: subject.kind,
      team_id: subject.teamId,
      user_id: subject.kind === 'member' ? subject.userId : null,
      service: subject.kind === 'service' ? subject.service : null,
    });
    return token;
  }

  /** A removed member's tokens stop working for good (re-adding the member does not revive them). */
  async revokeMember(teamId: string, userId: string): Promise<number> {
    return this.db('api_tokens').where({ kind: 'member', team_id: teamId, user_id: userId }).delete();
  }

  async lookup(token: string): Promise<TokenSubject | null> {
    const row = await this.db('api_tokens').where('token_hash', hashToken(token)).first();
    if (!row) return null;
    return row.kind === 'member'
      ? { kind: 'member', teamId: row.team_id, userId: row.user_id }
      : { kind: 'service', service: row.service, teamId: row.team_id };
  }
}
