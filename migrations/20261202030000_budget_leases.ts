import type { Knex } from 'knex';

/**
 * Budget leases (spec §13) and reads from PostgreSQL (spec §10):
 * - `member_usage`: one row per member and period, kept in the same transaction as the ledger rows that change it,
 *   so the dashboard and balance reads are one query at any team size;
 * - `budget_leases`: credits the member workflow has handed to an API instance; the API spends them with one
 *   transaction and no Temporal call, the row's bound (`used <= credits`, `status`, `expires_at`) keeps it exact;
 * - `request_answers`: the first answer to each request id (consumptions, purchases), whichever writer decided it,
 *   so a repeat gets it again from any API instance, for as long as the row is kept;
 * - the ledger row of a lease-served consumption carries its lease id; the write-through's `written_by` goes;
 * - `members.payg_enabled`: the PAYG setting Billing chose, so a member removed and added again keeps it, and the
 *   ledger kind `restore`: credits an early close expired, given back when that member resumes the period.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table ledger_entries drop column written_by');
  await knex.raw(
    `alter table ledger_entries drop constraint ledger_entries_kind_check,
     add constraint ledger_entries_kind_check
       check (kind in ('grant','consume','payg','purchase','expire','restore','adjustment'))`,
  );
  await knex.schema.alterTable('ledger_entries', (t) => {
    t.string('lease_id', 64).nullable().comment('The budget lease a consumption was served from (API writes)');
  });
  await knex.raw('create index ledger_entries_lease_idx on ledger_entries (lease_id) where lease_id is not null');
  await knex.schema.alterTable('members', (t) => {
    t.boolean('payg_enabled').nullable().comment('PAYG as Billing last set it; null: the plan default (on)');
  });

  await knex.schema.createTable('member_usage', (t) => {
    t.comment('A member period at a glance, kept in the transactions that write its ledger rows');
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.timestamp('period_end', { useTz: true }).notNullable();
    t.bigint('allowance').notNullable().defaultTo(0).comment('Granted this period, millicredits (grant + adjustment)');
    t.bigint('purchased').notNullable().defaultTo(0).comment('Bought this period, millicredits');
    t.bigint('used').notNullable().defaultTo(0).comment('Spent from allowance and purchases (consume rows)');
    t.bigint('payg_credits').notNullable().defaultTo(0).comment('Spent beyond them, billed as PAYG (payg rows)');
    t.bigint('expired').notNullable().defaultTo(0).comment('Left unused when the period closed (expire rows)');
    t.bigint('payg_charge_minor')
      .notNullable()
      .defaultTo(0)
      .comment('What the PAYG credits cost, as the workflow rounds');
    t.string('plan_id', 32).nullable();
    t.string('currency', 3).nullable();
    t.boolean('payg_enabled').notNullable().defaultTo(false);
    t.boolean('payg_available').notNullable().defaultTo(false);
    t.specificType('notified', 'text[]').notNullable().defaultTo('{}').comment('Member notifications decided');
    t.bigint('version').notNullable().defaultTo(0).comment('Workflow state version of the non-additive columns');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['team_id', 'user_id', 'period_start'], { constraintName: 'member_usage_pkey' });
    t.index(['team_id', 'period_start', 'user_id'], 'member_usage_team_period_idx');
  });

  await knex.schema.createTable('budget_leases', (t) => {
    t.comment('Credits a member workflow handed to one API instance; spent there with one transaction each');
    t.string('lease_id', 64).primary().comment('Unique per member run: workflow id + run + sequence');
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.string('holder', 64).notNullable().comment('The API instance the lease was handed to');
    t.bigint('credits').notNullable().comment('Most the holder may spend, millicredits');
    t.bigint('allowance_credits').notNullable().comment('The part of credits carved from the allowance');
    t.bigint('used').notNullable().defaultTo(0);
    t.string('status', 16).notNullable().defaultTo('active').comment('active, then closed');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('closed_at', { useTz: true }).nullable();
    t.index(['team_id', 'user_id'], 'budget_leases_member_idx');
  });
  await knex.raw(
    `alter table budget_leases
       add constraint budget_leases_status_check check (status in ('active', 'closed')),
       add constraint budget_leases_used_check check (used >= 0 and used <= credits)`,
  );

  await knex.schema.createTable('request_answers', (t) => {
    t.comment('The first answer to a request id: a repeat gets it again, a different body gets 409');
    t.string('team_id', 64).notNullable();
    t.string('user_id', 64).notNullable();
    t.string('kind', 16).notNullable().comment('consume or purchase');
    t.string('request_id', 128).notNullable();
    t.string('fingerprint', 200).notNullable().comment('What was asked: a repeat must ask the same');
    t.string('status', 8).notNullable().comment('pending: sent to the workflow, answer to come; done');
    t.jsonb('answer').nullable();
    t.string('lease_id', 64).nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['team_id', 'user_id', 'kind', 'request_id'], { constraintName: 'request_answers_pkey' });
    t.index(['created_at'], 'request_answers_created_idx');
  });
  await knex.raw(
    `alter table request_answers add constraint request_answers_status_check check (status in ('pending', 'done'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('request_answers');
  await knex.schema.dropTableIfExists('budget_leases');
  await knex.schema.dropTableIfExists('member_usage');
  await knex.schema.alterTable('members', (t) => t.dropColumn('payg_enabled'));
  await knex.raw('drop index if exists ledger_entries_lease_idx');
  await knex.schema.alterTable('ledger_entries', (t) => t.dropColumn('lease_id'));
  await knex.raw(`alter table ledger_entries add column written_by varchar(16) not null default 'workflow'`);
}
