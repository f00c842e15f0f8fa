import type { Knex } from 'knex';

export interface Alert {
  id: number;
  kind: string;
  message: string;
  createdAt: number;
}

export interface OutgoingEmail {
  emailKey: string;
  teamId: string;
  kind: string;
  to: string;
  subject: string;
  body: string;
}

/** In-product alerts and the email outbox: each keyed, so a retried activity stores nothing twice. */
export class NotificationStore {
  constructor(private readonly db: Knex) {}

  async addAlert(a: {
    alertKey: string;
    teamId: string;
    userId: string;
    kind: string;
    message: string;
  }): Promise<void> {
    await this.db('alerts')
      .insert({ alert_key: a.alertKey, team_id: a.teamId, user_id: a.userId, kind: a.kind, message: a.message })
      .onConflict('alert_key')
      .ignore();
  }

  /** Newest first, a page at a time: `before` is the id of the previous page's last alert. */
  async alertsPage(
    teamId: string,
    userId: string,
    opts: { before?: number; limit: number },
  ): Promise<{ alerts: Alert[]; next: number | null }> {
    const q = this.db('alerts')
      .where({ team_id: teamId, user_id: userId })
      .orderBy('id', 'desc')
      .limit(opts.limit + 1);
    if (opts.before !== undefined) q.andWhere('id', '<', opts.before);
    const rows = await q;
    const alerts: Alert[] = rows
      .slice(0, opts.limit)
      .map((r) => ({ id: r.id, kind: r.kind, message: r.message, createdAt: r.created_at.getTime() }));
    return { alerts, next: rows.length > opts.limit ? alerts[alerts.length - 1].id : null };
  }

  async alertsFor(teamId: string, userId: string, limit = 100): Promise<Alert[]> {
    const rows = await this.db('alerts').where({ team_id: teamId, user_id: userId }).orderBy('id', 'desc').limit(limit);
    return rows.map((r) => ({ id: r.id, kind: r.kind, message: r.message, createdAt: r.created_at.getTime() }));
  }

  /** Queue an email once per key. */
  async enqueueEmail(e: OutgoingEmail): Promise<void> {
    await this.db('email_outbox')
      .insert({
        email_key: e.emailKey,
        team_id: e.teamId,
        kind: e.kind,
        to_address: e.to,
        subject: e.subject,
        body: e.body,
      })
      .onConflict('email_key')
      .ignore();
  }

  /**
   * Claim the unsent emails among `keys` for this sender: concurrent activities (two members' ledger batches
   * crossing the team threshold at once) never both send one. A claim older than a minute is a crashed
   * sender's and may be taken over.
   */
  async claimUnsent(keys: readonly string[]): Promise<OutgoingEmail[]> {
    if (keys.length === 0) return [];
    const rows = await this.db('email_outbox')
      .whereIn('email_key', keys)
      .whereNull('sent_at')
      .where((q) => q.whereNull('claimed_at').orWhere('claimed_at', '<', this.db.raw("now() - interval '1 minute'")))
      .update({ claimed_at: this.db.fn.now() })
      .returning('*');
    return rows.map((r) => ({
      emailKey: r.email_key,
      teamId: r.team_id,
      kind: r.kind,
      to: r.to_address,
      subject: r.subject,
      body: r.body,
    }));
  }

  /** The keys among `keys` whose email has not been sent yet. */
  async unsent(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows: { email_key: string }[] = await this.db('email_outbox')
      .whereIn('email_key', keys)
      .whereNull('sent_at')
      .select('email_key');
    return rows.map((r) => r.email_key);
  }

  async markSent(emailKey: string): Promise<void> {
    await this.db('email_outbox')
      .where('email_key', emailKey)
      .whereNull('sent_at')
      .update({ sent_at: this.db.fn.now() });
  }

  /** Give a claimed email back after a failed send, so the activity's retry sends it. */
  async release(emailKey: string): Promise<void> {
    await this.db('email_outbox').where('email_key', emailKey).whereNull('sent_at').update({ claimed_at: null });
  }
}
