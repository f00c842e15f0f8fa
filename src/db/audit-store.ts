/**
 * The audit trail (spec §15): who did what, when, with the state before and after. Every event is written by
 * `recordAudit` on the same knex handle as the change it records — a transaction — so an event exists exactly when
 * its change was committed.
 *
 * Recording from other code (PAYG toggles, caps, purchases, plan changes):
 *
 *   await db.transaction(async (trx) => {
 *     ...the change...
 *     await recordAudit(trx, {
 *       teamId, ...actorOf(req.principal), action: 'payg.changed', target: `member:${userId}`,
 *       before: { enabled: false }, after: { enabled: true },
 *     });
 *   });
 *
 * A writer that may run twice for one change (a retried activity) passes an `eventKey`: the second write is
 * skipped. `actor` is the caller's token id (`actorOf` in src/api/auth.ts), `provisioning`, or `system` for what the
 * service decides by itself (a billing date, a workflow's own decision).
 */
import type { Knex } from 'knex';

export type AuditAction =
  | 'team.created'
  | 'member.added'
  | 'member.changed'
  | 'member.removed'
  | 'token.issued'
  | 'token.revoked'
  | 'payg.changed'
  | 'payg_cap.changed'
  | 'team_payg_cap.changed'
  | 'credits.purchased'
  | 'plan.changed'
  | 'webhook.created'
  | 'webhook.changed'
  | 'webhook.deleted';

/** The actor of what the service does by itself. */
export const SYSTEM_ACTOR = 'system';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface AuditEventInput {
  /** The team concerned; null only for what concerns no team (a global service token). */
  teamId: string | null;
  actor: string;
  /** The member behind a member token, when there is one. */
  actorUserId?: string | null;
  action: AuditAction;
  /** `member:{userId}`, `token:{tokenId}`, `team:{teamId}`. */
  target: string;
  /** Plain JSON values (what JSON.stringify keeps is what is stored). */
  before?: unknown;
  after?: unknown;
  eventKey?: string;
}

export interface AuditEvent {
  id: number;
  teamId: string | null;
  at: number;
  actor: string;
  actorUserId: string | null;
  action: string;
  target: string;
  before: Json;
  after: Json;
}

interface AuditRow {
  id: number;
  team_id: string | null;
  at: Date;
  actor: string;
  actor_user_id: string | null;
  action: string;
  target: string;
  before: Json;
  after: Json;
}

/** Any fixed number: the first key of the per-team advisory lock that orders a team's audit writes. */
const AUDIT_LOCK_CLASS = 0x41554454; // "AUDT"

/**
 * Records one event on `db`, which should be the transaction of the change. It takes a per-team transaction lock, so
 * a team's events commit in id order and a reader paging with `after=` never skips one committed late; keep the
 * transaction short after it (other audited changes of the same team wait for its commit).
 */
export async function recordAudit(db: Knex | Knex.Transaction, event: AuditEventInput): Promise<void> {
  await db.raw('select pg_advisory_xact_lock(?, hashtext(?))', [AUDIT_LOCK_CLASS, event.teamId ?? '']);
  const q = db('audit_events').insert({
    team_id: event.teamId,
    actor: event.actor,
    actor_user_id: event.actorUserId ?? null,
    action: event.action,
    target: event.target,
    before: event.before === undefined ? null : JSON.stringify(event.before),
    after: event.after === undefined ? null : JSON.stringify(event.after),
    event_key: event.eventKey ?? null,
  });
  if (event.eventKey) await q.onConflict('event_key').ignore();
  else await q;
}

export class AuditStore {
  constructor(private readonly db: Knex) {}

  record(event: AuditEventInput): Promise<void> {
    return recordAudit(this.db, event);
  }

  /**
   * A team's events a page at a time. Oldest first (the default): those after the event id `after`, or from the
   * instant `since` on. Newest first: those before the event id `before` (the previous page's last), still bounded
   * below by `after` or `since` when given.
   */
  async page(
    teamId: string,
    opts: { after?: number; since?: number; before?: number; newestFirst?: boolean; limit: number },
  ): Promise<{ events: AuditEvent[]; next: number | null }> {
    const q = this.db<AuditRow>('audit_events')
      .where('team_id', teamId)
      .orderBy('id', opts.newestFirst ? 'desc' : 'asc')
      .limit(opts.limit + 1);
    if (opts.after !== undefined) q.andWhere('id', '>', opts.after);
    if (opts.since !== undefined) q.andWhere('at', '>=', new Date(opts.since));
    if (opts.before !== undefined) q.andWhere('id', '<', opts.before);
    const rows = await q;
    const events = rows.slice(0, opts.limit).map(toEvent);
    return { events, next: rows.length > opts.limit ? events[events.length - 1].id : null };
  }
}

function toEvent(r: AuditRow): AuditEvent {
  return {
    id: r.id,
    teamId: r.team_id,
    at: r.at.getTime(),
    actor: r.actor,
    actorUserId: r.actor_user_id,
    action: r.action,
    target: r.target,
    before: r.before,
    after: r.after,
  };
}
