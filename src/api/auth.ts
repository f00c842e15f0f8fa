import { timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../errors';
import type { AccessChangeStore, AccessListener, AccessNotice } from '../db/access-change-store';
import type { Role, TeamStore } from '../db/team-store';
import { hashToken, type ServiceName, type TokenStore } from '../db/token-store';

export type Principal =
  | { kind: 'provisioning' }
  | { kind: 'service'; service: ServiceName; teamId: string | null; tokenId: string }
  | { kind: 'member'; teamId: string; userId: string; roles: Role[]; tokenId: string };

export const PROVISIONING_ACTOR = 'provisioning';

/** Who the audit trail names for a caller: the token's id (never the token), or provisioning. */
export function actorOf(p: Principal): { actor: string; actorUserId: string | null } {
  if (p.kind === 'provisioning') return { actor: PROVISIONING_ACTOR, actorUserId: null };
  return { actor: p.tokenId, actorUserId: p.kind === 'member' ? p.userId : null };
}

export interface AuthenticatorOptions {
  /** Longest a resolved token is served from memory (the changes below usually end it much sooner). */
  cacheMs?: number;
  /** How often the shared access version is compared, in case a notification was missed. */
  versionCheckMs?: number;
  /** Last-used times are written at most this often per token. */
  touchEveryMs?: number;
  onError?: (err: unknown, what: string) => void;
}

interface CacheEntry {
  principal: Principal;
  until: number;
}

/**
 * Resolves bearer tokens to principals. The provisioning token comes from the environment and is compared in
 * constant time; every other token is looked up by its SHA-256 and cached, so the agent's hot path does not read
 * PostgreSQL for every action.
 *
 * The cache is shared truth only while it can hear about changes: every change of access made by any API instance
 * (a token revoked, a member removed, roles changed) is published through PostgreSQL (NOTIFY, see
 * access-change-store.ts) and drops the cached principals it concerns here within milliseconds. Should a notification
 * be missed (the LISTEN connection dropped, a half-open socket), the shared version compared every `versionCheckMs`
 * shows a change this instance did not hear of, and the whole cache goes. While the LISTEN connection is down or the
 * version cannot be read, nothing is served from the cache at all.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly provisioningHash: Buffer | null;
  private readonly cacheMs: number;
  private readonly versionCheckMs: number;
  private readonly touchEveryMs: number;
  private readonly onError: (err: unknown, what: string) => void;
  /** Bumped by every invalidation: a look-up that started before one must not fill the cache with what it read. */
  private generation = 0;
  /** Highest shared version this instance has accounted for; -1 before the first check. */
  private seenVersion = -1;
  /** The cache is served only until then: extended by each successful version check. */
  private trustedUntil = 0;
  private listener: AccessListener | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly lastTouched = new Map<string, number>();
  private readonly toTouch = new Set<string>();

  constructor(
    private readonly tokens: TokenStore,
    private readonly teams: TeamStore,
    provisioningToken: string | undefined,
    private readonly changes?: AccessChangeStore,
    options: AuthenticatorOptions = {},
  ) {
    this.provisioningHash = provisioningToken ? Buffer.from(hashToken(provisioningToken), 'hex') : null;
    this.cacheMs = options.cacheMs ?? 10_000;
    this.versionCheckMs = options.versionCheckMs ?? 250;
    this.touchEveryMs = options.touchEveryMs ?? 60_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Listens for access changes; until this has run (or when no change store is given) nothing is cached. */
  async start(): Promise<void> {
    if (!this.changes) return;
    await this.connect();
    this.timer = setInterval(() => void this.tick(), this.versionCheckMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.flushTouches();
    await this.listener?.close();
    this.listener = null;
    this.invalidateAll();
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
    if (!match) throw unauthorized();
    const token = match[1];
    const hash = hashToken(token);
    if (this.provisioningHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.provisioningHash)) {
      return { kind: 'provisioning' };
    }
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now && this.cacheTrusted(now)) {
      this.touch(cached.principal, now);
      return cached.principal;
    }
    const generation = this.generation;
    const { principal, expiresAt } = await this.resolve(token);
    if (generation === this.generation && this.cacheTrusted(Date.now())) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { principal, until: Math.min(Date.now() + this.cacheMs, expiresAt) });
    }
    this.touch(principal, now);
    return principal;
  }

  /** Drop cached principals of a member whose roles or membership changed (other instances hear it by NOTIFY). */
  forget(teamId: string, userId: string): void {
    this.apply({ kind: 'member', teamId, userId });
  }

  /** Drop the cached principal of a revoked token (other instances hear it by NOTIFY). */
  forgetToken(tokenId: string): void {
    this.apply({ kind: 'token', tokenId });
  }

  private async resolve(token: string): Promise<{ principal: Principal; expiresAt: number }> {
    const found = await this.tokens.lookup(token);
    if (!found) throw unauthorized('unknown token');
    if (found.revokedAt !== null) throw unauthorized('this token has been revoked');
    if (found.expiresAt <= Date.now()) throw unauthorized('this token has expired');
    if (found.kind === 'service') {
      const { service, teamId, tokenId } = found;
      return { principal: { kind: 'service', service, teamId, tokenId }, expiresAt: found.expiresAt };
    }
    const member = await this.teams.getMember(found.teamId, found.userId);
    if (!member || member.status !== 'active') throw unauthorized('this member is no longer in the team');
    return {
      principal: {
        kind: 'member',
        teamId: member.teamId,
        userId: member.userId,
        roles: member.roles,
        tokenId: found.tokenId,
      },
      expiresAt: found.expiresAt,
    };
  }

  private cacheTrusted(now: number): boolean {
    return this.listener !== null && now < this.trustedUntil;
  }

  private async connect(): Promise<void> {
    this.listener = await this.changes!.listen(
      (notice) => this.onNotice(notice),
      (err) => {
        this.listener = null;
        this.invalidateAll();
        if (this.stopped) return;
        this.onError(err, 'access change listener lost; cache off until it is back');
        this.reconnectLater();
      },
    );
    // Whatever changed while nobody listened: start from an empty cache and the current version.
    this.invalidateAll();
    this.seenVersion = await this.changes!.version();
    this.trustedUntil = Date.now() + 2 * this.versionCheckMs;
  }

  private reconnectLater(): void {
    if (this.reconnectTimer || this.stopped) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.connect().catch((err) => {
        this.listener = null;
        this.onError(err, 'access change listener could not reconnect');
        this.reconnectLater();
      });
    }, 500);
    this.reconnectTimer.unref();
  }

  private onNotice(notice: AccessNotice): void {
    if (!notice) return this.invalidateAll();
    // Notifications arrive in commit order, one per version: a gap means some were missed.
    if (this.seenVersion >= 0 && notice.version > this.seenVersion + 1) this.invalidateAll();
    else this.apply(notice.change);
    this.seenVersion = Math.max(this.seenVersion, notice.version);
  }

  private async tick(): Promise<void> {
    try {
      const version = await this.changes!.version();
      // Ahead of what the notifications told: one was missed, or is about to arrive (then this clear was extra).
      if (version !== this.seenVersion) {
        this.invalidateAll();
        this.seenVersion = version;
      }
      this.trustedUntil = Date.now() + 2 * this.versionCheckMs;
    } catch (err) {
      this.onError(err, 'access version check failed');
    }
    await this.flushTouches();
  }

  private apply(change: NonNullable<AccessNotice>['change']): void {
    this.generation++;
    for (const [hash, { principal: p }] of this.cache) {
      const hit =
        change.kind === 'token'
          ? p.kind !== 'provisioning' && p.tokenId === change.tokenId
          : p.kind === 'member' && p.teamId === change.teamId && p.userId === change.userId;
      if (hit) this.cache.delete(hash);
    }
  }

  private invalidateAll(): void {
    this.generation++;
    this.cache.clear();
  }

  private touch(p: Principal, now: number): void {
    if (p.kind === 'provisioning') return;
    const last = this.lastTouched.get(p.tokenId) ?? 0;
    if (now - last < this.touchEveryMs) return;
    if (this.lastTouched.size > 50_000) this.lastTouched.clear();
    this.lastTouched.set(p.tokenId, now);
    this.toTouch.add(p.tokenId);
  }

  private async flushTouches(): Promise<void> {
    if (this.toTouch.size === 0) return;
    const ids = [...this.toTouch];
    this.toTouch.clear();
    await this.tokens.touch(ids).catch((err) => this.onError(err, 'last-used update failed'));
  }
}
