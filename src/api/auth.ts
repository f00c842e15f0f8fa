import { timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../errors';
import type { Role, TeamStore } from '../db/team-store';
import { hashToken, type ServiceName, type TokenStore } from '../db/token-store';

export type Principal =
  | { kind: 'provisioning' }
  | { kind: 'service'; service: ServiceName; teamId: string | null }
  | { kind: 'member'; teamId: string; userId: string; roles: Role[] };

/** How long a resolved token stays cached in this process (roles changed through this process apply at once). */
const CACHE_MS = 10_000;

/**
 * Resolves bearer tokens to principals. The provisioning token comes from the environment and is compared in
 * constant time; every other token is looked up by its SHA-256 and cached briefly, so the agent's hot path
 * does not read PostgreSQL for every action.
 */
export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly provisioningHash: Buffer | null;

  constructor(
    private readonly tokens: TokenStore,
    private readonly teams: TeamStore,
    provisioningToken: string | undefined,
  ) {
    this.provisioningHash = provisioningToken ? Buffer.from(hashToken(provisioningToken), 'hex') : null;
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
    if (!match) throw unauthorized();
    const token = match[1];
    const hash = hashToken(token);
    if (this.provisioningHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.provisioningHash)) {
      return { kind: 'provisioning' };
    }
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const subject = await this.tokens.lookup(token);
    if (!subject) throw unauthorized('unknown or revoked token');
    let principal: Principal;
    if (subject.kind === 'member') {
      const member = await this.teams.getMember(subject.teamId, subject.userId);
      if (!member || member.status !== 'active') throw unauthorized('this member is no longer in the team');
      principal = { kind: 'member', teamId: member.teamId, userId: member.userId, roles: member.roles };
    } else {
      principal = subject;
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  /** Drop cached principals of a member whose roles or membership changed. */
  forget(teamId: string, userId: string): void {
    for (const [hash, entry] of this.cache) {
      const p = entry.principal;
      if (p.kind === 'member' && p.teamId === teamId && p.userId === userId) this.cache.delete(hash);
    }
  }
}
