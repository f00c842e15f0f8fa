/**
 * Webhooks in PostgreSQL (spec §16): a team's endpoints, every event once with the body its deliveries send, the
 * deliveries (one event to one endpoint) and the delivery log (one row per HTTP attempt).
 *
 * `recordEvents` is called on the transaction that decided the events (a member's ledger rows, an invoice's
 * finalization): it stores each event once, by its key, and in the same transaction creates one delivery per
 * endpoint of the team that wants its type. The delivery's id is derived from the event and the endpoint, so a
 * retried writer creates nothing twice; a manual redelivery gets a random id.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { WebhookEventRecord, WebhookEventType } from '../webhooks/events';

export interface WebhookEndpoint {
  teamId: string;
  webhookId: string;
  url: string;
  events: WebhookEventType[];
  createdAt: number;
  updatedAt: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  startedAt: number;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  nextRetryAt: number | null;
}

export interface Delivery {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  type: WebhookEventType;
  manual: boolean;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
}

export interface DeliveryWithLog extends Delivery {
  log: DeliveryAttempt[];
}

/** What one attempt needs: the endpoint (URL, secret) and the event's stored body. */
export interface DeliveryTarget {
  deliveryId: string;
  status: DeliveryStatus;
  url: string;
  secret: string;
  eventId: string;
  body: string;
}

interface EndpointRow {
  team_id: string;
  webhook_id: string;
  url: string;
  events: WebhookEventType[];
  secret: string;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  seq: number;
  delivery_id: string;
  team_id: string;
  webhook_id: string;
  event_id: string;
  type: WebhookEventType;
  manual: boolean;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

/** A new endpoint secret: shown once, when generated. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export class WebhookStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  // ---- endpoints ----

  /**
   * Create or replace an endpoint. A replacement without a secret keeps the old one. Returns the endpoint as it was
   * before (null: created now).
   */
  async putEndpoint(e: {
    teamId: string;
    webhookId: string;
    url: string;
    events: WebhookEventType[];
    secret?: string;
  }): Promise<{ endpoint: WebhookEndpoint; before: WebhookEndpoint | null }> {
    const beforeRow = await this.db<EndpointRow>('webhook_endpoints')
      .where({ team_id: e.teamId, webhook_id: e.webhookId })
      .forUpdate()
      .first();
    if (beforeRow) {
      const [row] = await this.db<EndpointRow>('webhook_endpoints')
        .where({ team_id: e.teamId, webhook_id: e.webhookId })
        .update({
          url: e.url,
          events: e.events,
          ...(e.secret === undefined ? {} : { secret: e.secret }),
          updated_at: this.db.fn.now(),
        })
        .returning('*');
      return { endpoint: toEndpoint(row), before: toEndpoint(beforeRow) };
    }
    if (e.secret === undefined) throw new Error('a new endpoint needs a secret');
    const [row] = await this.db<EndpointRow>('webhook_endpoints')
      .insert({ team_id: e.teamId, webhook_id: e.webhookId, url: e.url, events: e.events, secret: e.secret })
      .returning('*');
    return { endpoint: toEndpoint(row), before: null };
  }

  async getEndpoint(teamId: string, webhookId: string): Promise<WebhookEndpoint | null> {
    const row = await this.db<EndpointRow>('webhook_endpoints')
      .where({ team_id: teamId, webhook_id: webhookId })
      .first();
    return row ? toEndpoint(row) : null;
  }

  async listEndpoints(teamId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db<EndpointRow>('webhook_endpoints').where({ team_id: teamId }).orderBy('webhook_id');
    return rows.map(toEndpoint);
  }

  /** Deletes the endpoint with its deliveries and their log (deliveries in flight stop at their next attempt). */
  async deleteEndpoint(teamId: string, webhookId: string): Promise<WebhookEndpoint | null> {
    const [row] = await this.db<EndpointRow>('webhook_endpoints')
      .where({ team_id: teamId, webhook_id: webhookId })
      .delete()
      .returning('*');
    return row ? toEndpoint(row) : null;
  }

  // ---- events ----

  /**
   * Store events (each once, by key) and their deliveries to the team's endpoints that want them. Returns the ids of
   * the automatic deliveries of these events still pending (to start; starting one twice is harmless).
   */
  async recordEvents(events: readonly WebhookEventRecord[]): Promise<string[]> {
    if (events.length === 0) return [];
    await this.db('webhook_events')
      .insert(
        events.map((e) => ({
          event_id: e.eventId,
          event_key: e.eventKey,
          team_id: e.teamId,
          type: e.type,
          body: e.body,
          created_at: new Date(e.createdAt),
        })),
      )
      .onConflict('event_key')
      .ignore();
    const ids = events.map((e) => e.eventId);
    await this.db.raw(
      `insert into webhook_deliveries (delivery_id, team_id, webhook_id, event_id)
       select 'dlv_' || substr(encode(sha256(convert_to(e.event_id || '/' || w.webhook_id, 'UTF8')), 'hex'), 1, 24),
         w.team_id, w.webhook_id, e.event_id
       from webhook_events e
       join webhook_endpoints w on w.team_id = e.team_id and e.type = any(w.events)
       where e.event_id = any(?::text[])
       on conflict (delivery_id) do nothing`,
      [ids],
    );
    const rows: { delivery_id: string }[] = await this.db('webhook_deliveries')
      .whereIn('event_id', ids)
      .andWhere({ manual: false, status: 'pending' })
      .orderBy('seq')
      .select('delivery_id');
    return rows.map((r) => r.delivery_id);
  }

  // ---- deliveries ----

  /** What the next attempt sends; null when the delivery is gone (its endpoint was deleted). */
  async target(deliveryId: string): Promise<DeliveryTarget | null> {
    const row = await this.db('webhook_deliveries as d')
      .join('webhook_endpoints as w', function () {
        this.on('w.team_id', 'd.team_id').andOn('w.webhook_id', 'd.webhook_id');
      })
      .join('webhook_events as e', 'e.event_id', 'd.event_id')
      .where('d.delivery_id', deliveryId)
      .first('d.delivery_id', 'd.status', 'w.url', 'w.secret', 'e.event_id', 'e.body');
    return row
      ? {
          deliveryId: row.delivery_id,
          status: row.status,
          url: row.url,
          secret: row.secret,
          eventId: row.event_id,
          body: row.body,
        }
      : null;
  }

  /** One attempt into the log, and the delivery's state after it (delivered, or the next retry). */
  async recordAttempt(a: DeliveryAttempt & { deliveryId: string; delivered: boolean }): Promise<void> {
    await this.db.transaction(async (trx) => {
      const inserted = await trx('webhook_attempts')
        .insert({
          delivery_id: a.deliveryId,
          attempt: a.attempt,
          started_at: new Date(a.startedAt),
          latency_ms: a.latencyMs,
          status_code: a.statusCode,
          error: a.error,
          response_body: a.responseBody,
          next_retry_at: a.nextRetryAt === null ? null : new Date(a.nextRetryAt),
        })
        .onConflict(['delivery_id', 'attempt'])
        .ignore()
        .returning('id');
      if (inserted.length === 0) return;
      await trx('webhook_deliveries')
        .where('delivery_id', a.deliveryId)
        .andWhere('status', 'pending')
        .update({
          attempts: trx.raw('attempts + 1'),
          ...(a.delivered
            ? { status: 'delivered', delivered_at: new Date(a.startedAt + a.latencyMs), next_attempt_at: null }
            : { next_attempt_at: a.nextRetryAt === null ? null : new Date(a.nextRetryAt) }),
        });
    });
  }

  /** The delivery gave up (24 h without a 2xx). */
  async markFailed(deliveryId: string): Promise<void> {
    await this.db('webhook_deliveries')
      .where({ delivery_id: deliveryId, status: 'pending' })
      .update({ status: 'failed', next_attempt_at: null });
  }

  /** A new delivery of a delivery's event to the same endpoint (manual redelivery); null when there is none. */
  async redeliver(teamId: string, webhookId: string, deliveryId: string): Promise<Delivery | null> {
    const source = await this.db('webhook_deliveries')
      .where({ team_id: teamId, webhook_id: webhookId, delivery_id: deliveryId })
      .first('event_id');
    if (!source) return null;
    const [row] = await this.db('webhook_deliveries')
      .insert({
        delivery_id: `dlv_${randomBytes(18).toString('base64url')}`,
        team_id: teamId,
        webhook_id: webhookId,
        event_id: source.event_id,
        manual: true,
      })
      .returning('delivery_id');
    return (await this.delivery(teamId, webhookId, row.delivery_id))!;
  }

  async delivery(teamId: string, webhookId: string, deliveryId: string): Promise<Delivery | null> {
    const row = await this.deliveries()
      .where({ 'd.team_id': teamId, 'd.webhook_id': webhookId, 'd.delivery_id': deliveryId })
      .first();
    return row ? toDelivery(row) : null;
  }

  /** An endpoint's delivery log, newest first, a page at a time (`before`: the previous page's last cursor). */
  async deliveryLog(
    teamId: string,
    webhookId: string,
    opts: { before?: number; limit: number },
  ): Promise<{ deliveries: DeliveryWithLog[]; next: number | null }> {
    const q = this.deliveries()
      .where({ 'd.team_id': teamId, 'd.webhook_id': webhookId })
      .orderBy('d.seq', 'desc')
      .limit(opts.limit + 1);
    if (opts.before !== undefined) q.andWhere('d.seq', '<', opts.before);
    const rows: DeliveryRow[] = await q;
    const shown = rows.slice(0, opts.limit);
    const attempts = await this.db('webhook_attempts')
      .whereIn(
        'delivery_id',
        shown.map((r) => r.delivery_id),
      )
      .orderBy(['delivery_id', 'attempt']);
    const log = new Map<string, DeliveryAttempt[]>();
    for (const a of attempts) {
      const list = log.get(a.delivery_id) ?? [];
      list.push({
        attempt: a.attempt,
        startedAt: a.started_at.getTime(),
        latencyMs: a.latency_ms,
        statusCode: a.status_code,
        error: a.error,
        responseBody: a.response_body,
        nextRetryAt: a.next_retry_at ? a.next_retry_at.getTime() : null,
      });
      log.set(a.delivery_id, list);
    }
    return {
      deliveries: shown.map((r) => ({ ...toDelivery(r), log: log.get(r.delivery_id) ?? [] })),
      next: rows.length > opts.limit ? shown[shown.length - 1].seq : null,
    };
  }

  private deliveries() {
    return this.db('webhook_deliveries as d')
      .join('webhook_events as e', 'e.event_id', 'd.event_id')
      .select('d.*', 'e.type');
  }
}

function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    teamId: r.team_id,
    webhookId: r.webhook_id,
    url: r.url,
    events: r.events,
    createdAt: r.created_at.getTime(),
    updatedAt: r.updated_at.getTime(),
  };
}

function toDelivery(r: DeliveryRow): Delivery {
  return {
    deliveryId: r.delivery_id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    type: r.type,
    manual: r.manual,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at ? r.next_attempt_at.getTime() : null,
    deliveredAt: r.delivered_at ? r.delivered_at.getTime() : null,
    createdAt: r.created_at.getTime(),
  };
}
