import type { Knex } from 'knex';

/**
 * Webhooks and plan changes (spec §16):
 * - `teams.pending_plan` / `pending_plan_from`: a downgrade waits for the next billing date; from that instant on
 *   it is the team's plan (read lazily, so nothing has to run at the billing date to apply it);
 * - `webhook_endpoints`: a team's receivers, the events each wants and the secret that signs them;
 * - `webhook_events`: every event once, by its key, with its public id and the exact body every delivery sends;
 *   member events are written in the transaction of the ledger rows they were decided with;
 * - `webhook_deliveries`: one event to one endpoint (automatic, one per event and endpoint; or a manual
 *   redelivery), its state and next retry, each driven by its own Temporal workflow;
 * - `webhook_attempts`: the delivery log, one row per HTTP attempt (status, latency, at most 1 KiB of the answer).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('teams', (t) => {
    t.string('pending_plan', 32).nullable().comment('A downgrade waiting for the next billing date');
    t.timestamp('pending_plan_from', { useTz: true }).nullable().comment('When pending_plan becomes the plan');
  });

  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.comment('Webhook receivers of a team');
    t.string('team_id', 64).notNullable().references('team_id').inTable('teams').onDelete('CASCADE');
    t.string('webhook_id', 64).notNullable();
    t.text('url').notNullable().comment('http(s) URL, checked at registration and again at every delivery');
    t.specificType('events', 'text[]').notNullable().comment('Event types delivered to it');
    t.text('secret').notNullable().comment('HMAC-SHA256 key of the signatures (needed in clear to sign)');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['team_id', 'webhook_id'], { constraintName: 'webhook_endpoints_pkey' });
  });

  await knex.schema.createTable('webhook_events', (t) => {
    t.comment('Every webhook event once, with the body all its deliveries send');
    t.bigIncrements('id').primary();
    t.string('event_id', 40).notNullable().comment('Public id (evt_…), derived from event_key');
    t.string('event_key', 400).notNullable().comment('What makes it once: member, period, kind, occurrence');
    t.string('team_id', 64).notNullable();
    t.string('type', 64).notNullable();
    t.text('body').notNullable().comment('The JSON sent, byte for byte, on every attempt');
    t.timestamp('created_at', { useTz: true }).notNullable().comment('When the event was decided');
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['event_key'], { indexName: 'webhook_events_event_key_unique' });
    t.unique(['event_id'], { indexName: 'webhook_events_event_id_unique' });
    t.index(['team_id', 'id'], 'webhook_events_team_idx');
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.comment('One event to one endpoint; each is delivered by its own workflow');
    t.bigIncrements('seq').primary().comment('Order of the deliveries: the keyset of the delivery log');
    t.string('delivery_id', 40).notNullable().comment('dlv_…: derived from event and endpoint, or random (manual)');
    t.string('team_id', 64).notNullable();
    t.string('webhook_id', 64).notNullable();
    t.string('event_id', 40).notNullable().references('event_id').inTable('webhook_events');
    t.boolean('manual').notNullable().defaultTo(false).comment('A redelivery asked for through the API');
    t.string('status', 16).notNullable().defaultTo('pending').comment('pending, delivered, failed');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).nullable().comment('When the next retry is due (pending)');
    t.timestamp('delivered_at', { useTz: true }).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['delivery_id'], { indexName: 'webhook_deliveries_delivery_id_unique' });
    t.index(['team_id', 'webhook_id', 'seq'], 'webhook_deliveries_endpoint_idx');
    t.foreign(['team_id', 'webhook_id'], 'webhook_deliveries_endpoint_fk')
      .references(['team_id', 'webhook_id'])
      .inTable('webhook_endpoints')
      .onDelete('CASCADE');
  });

  await knex.schema.createTable('webhook_attempts', (t) => {
    t.comment('The delivery log: one row per HTTP attempt');
    t.bigIncrements('id').primary();
    t.string('delivery_id', 40)
      .notNullable()
      .references('delivery_id')
      .inTable('webhook_deliveries')
      .onDelete('CASCADE');
    t.integer('attempt').notNullable().comment('Attempt number of the delivery activity, as Temporal counts it');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.integer('latency_ms').notNullable();
    t.integer('status_code').nullable().comment('HTTP status; null when no answer (refused, timeout, DNS)');
    t.string('error', 300).nullable();
    t.string('response_body', 1024).nullable().comment('At most the first 1 KiB of the answer');
    t.timestamp('next_retry_at', { useTz: true }).nullable().comment('When the next attempt is due, if any');
    t.unique(['delivery_id', 'attempt'], { indexName: 'webhook_attempts_attempt_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_attempts');
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhook_events');
  await knex.schema.dropTableIfExists('webhook_endpoints');
  await knex.schema.alterTable('teams', (t) => {
    t.dropColumn('pending_plan');
    t.dropColumn('pending_plan_from');
  });
}
