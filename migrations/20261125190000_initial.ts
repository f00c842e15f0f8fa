import type { Knex } from 'knex';

/**
 * Teams, members, tokens, the append-only credit ledger, invoices with their lines, in-product alerts and the
 * email outbox. Every table that activities write has a unique business key, so retries and replays are
 * no-ops.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('teams', (t) => {
    t.comment('A customer team: plan, billing anchor and PAYG threshold');
    t.string('team_id', 64).primary().comment('External team id');
    t.string('plan', 32).notNullable().comment('Plan id from the plan catalogue');
    t.smallint('billing_anchor_day').notNullable().comment('Day of month 1-31 (UTC), clamped to month end');
    t.bigint('payg_threshold_minor').nullable().comment('Billing email when PAYG charges of a period exceed this');
    t.string('currency', 3).notNullable().comment('ISO 4217 currency of the team invoices');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table teams add constraint teams_anchor_day_check check (billing_anchor_day between 1 and 31)');

  await knex.schema.createTable('members', (t) => {
    t.comment('Team membership and roles; removed members keep their row for the ledger');
    t.string('team_id', 64).notNullable().references('teams.team_id');
    t.string('user_id', 64).notNullable();
    t.string('email', 320).notNullable();
    t.specificType('roles', 'text[]').notNullable().comment('member, admin, billing (any combination)');
    t.string('status', 16).notNullable().defaultTo('active').comment('active or removed');
    t.timestamp('joined_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('removed_at', { useTz: true }).nullable();
    t.primary(['team_id', 'user_id'], { constraintName: 'members_pkey' });
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.comment('Bearer tokens, stored as SHA-256 hashes only');
    t.string('token_hash', 64).primary().comment('hex SHA-256 of the token');
    t.string('kind', 16).notNullable().comment('member or service');
    t.string('team_id', 64).nullable();
    t.string('user_id', 64).nullable();
    t.string('service', 16).nullable().comment('agent or finance');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('ledger_entries', (t) => {
    t.comment('Append-only credit ledger: grants, consumption, PAYG, purchases, expiries, adjustments');
    t.bigIncrements('id').primary();
    t.string('entry_key', 400).notNullable().comment('Idempotency key built by the workflow');
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.timestamp('period_end', { useTz: true }).notNullable();
    t.string('kind', 16).notNullable().comment('grant, consume, payg, purchase, expire, adjustment');
    t.bigint('millicredits').notNullable().comment('Always positive; the kind gives the sign');
    t.bigint('amount_minor').nullable().comment('Money, where the entry is charged (purchases)');
    t.string('currency', 3).nullable();
    t.string('request_id', 128).nullable().comment('Consumption requestId or purchaseId');
    t.string('action', 64).nullable();
    t.string('workflow_id', 200).notNullable();
    t.string('run_id', 64).notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable().comment('Workflow time of the event');
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['entry_key'], { indexName: 'ledger_entries_entry_key_unique' });
    t.index(['team_id', 'user_id', 'period_start'], 'ledger_entries_member_period_idx');
    t.index(['team_id', 'period_start'], 'ledger_entries_team_period_idx');
  });
  await knex.raw(
    `alter table ledger_entries add constraint ledger_entries_kind_check
       check (kind in ('grant','consume','payg','purchase','expire','adjustment')),
     add constraint ledger_entries_positive_check check (millicredits > 0)`,
  );

  await knex.schema.createTable('invoices', (t) => {
    t.comment('One open invoice per team collects charges; finalized after the billing date grace window');
    t.bigIncrements('id').primary();
    t.string('team_id', 64).notNullable().references('teams.team_id');
    t.integer('sequence').notNullable().comment('1, 2, 3... per team');
    t.string('status', 16).notNullable().defaultTo('open').comment('open or finalized');
    t.string('currency', 3).notNullable();
    t.bigint('total_minor').notNullable().defaultTo(0);
    t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finalized_at', { useTz: true }).nullable();
    t.string('finalize_key', 200).nullable().comment('Idempotency key of the finalization');
    t.unique(['team_id', 'sequence'], { indexName: 'invoices_team_sequence_unique' });
    t.unique(['finalize_key'], { indexName: 'invoices_finalize_key_unique' });
  });
  await knex.raw(`create unique index invoices_one_open_per_team on invoices (team_id) where status = 'open'`);

  await knex.schema.createTable('invoice_lines', (t) => {
    t.comment('Charges on invoices: PAYG per member and period, credit purchases');
    t.bigIncrements('id').primary();
    t.bigInteger('invoice_id').notNullable().references('invoices.id');
    t.string('line_key', 400).notNullable().comment('Idempotency key built by the workflow');
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.string('kind', 16).notNullable().comment('payg or purchase');
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.timestamp('period_end', { useTz: true }).notNullable();
    t.bigint('millicredits').notNullable();
    t.bigint('rate_micros_per_credit').notNullable();
    t.bigint('amount_minor').notNullable().comment('Rounded half-up once, when posted');
    t.string('currency', 3).notNullable();
    t.string('description', 300).notNullable();
    t.timestamp('occurred_at', { useTz: true }).notNullable();
    t.timestamp('posted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['line_key'], { indexName: 'invoice_lines_line_key_unique' });
    t.index(['invoice_id'], 'invoice_lines_invoice_idx');
    t.index(['team_id', 'period_start'], 'invoice_lines_team_period_idx');
  });

  await knex.schema.createTable('alerts', (t) => {
    t.comment('In-product alerts served by GET /v1/me/alerts');
    t.bigIncrements('id').primary();
    t.string('alert_key', 400).notNullable();
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.string('kind', 32).notNullable();
    t.text('message').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['alert_key'], { indexName: 'alerts_alert_key_unique' });
    t.index(['team_id', 'user_id', 'created_at'], 'alerts_member_idx');
  });

  await knex.schema.createTable('email_outbox', (t) => {
    t.comment('Every email, once per key; sent_at marks delivery to the SMTP server');
    t.bigIncrements('id').primary();
    t.string('email_key', 400).notNullable();
    t.string('team_id', 64).notNullable();
    t.string('kind', 32).notNullable();
    t.string('to_address', 320).notNullable();
    t.string('subject', 300).notNullable();
    t.text('body').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('claimed_at', { useTz: true }).nullable().comment('A sender holds the email while sending');
    t.timestamp('sent_at', { useTz: true }).nullable();
    t.unique(['email_key'], { indexName: 'email_outbox_email_key_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['email_outbox', 'alerts', 'invoice_lines', 'invoices', 'ledger_entries', 'api_tokens']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.dropTableIfExists('members');
  await knex.schema.dropTableIfExists('teams');
}
