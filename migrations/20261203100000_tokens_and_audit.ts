import type { Knex } from 'knex';

/**
 * Token lifecycle, shared access invalidation and the audit trail (spec §15, §17):
 * - `api_tokens` gains a public id (what an admin lists and revokes, what the audit trail names as the actor), a
 *   label, an expiry, a revocation mark (rows are kept, so the audit trail and the token list still name them) and
 *   a last-used time written at most once a minute;
 * - `access_version`: one row whose version every change of who may do what (token revoked, member removed, roles
 *   changed) bumps in the transaction that makes the change, next to a NOTIFY on the `ai_credits_access` channel:
 *   API instances drop their cached principals on the notification, and compare the version periodically in case
 *   they missed one;
 * - `audit_events`: who did what and when, written in the transaction of the change it records.
 *
 * Tokens issued before this migration expire 90 days after it, so no agent stops at the upgrade.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.string('token_id', 32).nullable().comment('Public id (tok_…): listed, revoked and named in the audit trail');
    t.bigIncrements('seq', { primaryKey: false }).comment('Issue order: the keyset of the token list');
    t.string('label', 100).nullable().comment('What the token is for, as given when issued');
    t.string('created_by', 64).nullable().comment('Actor who issued it: a token id or provisioning');
    t.timestamp('expires_at', { useTz: true }).nullable().comment('Refused from this instant on');
    t.timestamp('revoked_at', { useTz: true }).nullable().comment('Refused from this instant on; the row stays');
    t.timestamp('last_used_at', { useTz: true }).nullable().comment('Written at most once a minute per token');
  });
  await knex.raw(
    `update api_tokens set token_id = 'tok_' || substr(token_hash, 1, 20), expires_at = now() + interval '90 days'`,
  );
  await knex.raw(
    `alter table api_tokens alter column token_id set not null, alter column expires_at set not null,
       add constraint api_tokens_token_id_unique unique (token_id)`,
  );
  await knex.raw('create index api_tokens_team_idx on api_tokens (team_id, seq)');
  await knex.raw(
    `create index api_tokens_member_idx on api_tokens (team_id, user_id) where kind = 'member' and revoked_at is null`,
  );

  await knex.schema.createTable('access_version', (t) => {
    t.comment('One row: bumped with every change of access, so API instances know when their token cache is stale');
    t.boolean('id').primary().defaultTo(true);
    t.bigint('version').notNullable().defaultTo(0);
    t.timestamp('changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table access_version add constraint access_version_one_row check (id)');
  await knex('access_version').insert({ id: true });

  await knex.schema.createTable('audit_events', (t) => {
    t.comment('Audit trail: who did what and when, written in the transaction of the change it records');
    t.bigIncrements('id').primary().comment('Order of the events of one team (their writes are serialized per team)');
    t.string('team_id', 64).nullable().comment('The team concerned; null for global service tokens');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('actor', 64).notNullable().comment('Token id of the caller, provisioning, or system');
    t.string('actor_user_id', 64).nullable().comment('The member behind a member token');
    t.string('action', 64).notNullable().comment('e.g. member.added, token.revoked, payg.changed');
    t.string('target', 200).notNullable().comment('What was changed: member:ada, token:tok_…, team:acme');
    t.jsonb('before').nullable();
    t.jsonb('after').nullable();
    t.string('event_key', 400).nullable().comment('Idempotency key of writers that may retry (activities)');
    t.unique(['event_key'], { indexName: 'audit_events_event_key_unique' });
    t.index(['team_id', 'id'], 'audit_events_team_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_events');
  await knex.schema.dropTableIfExists('access_version');
  await knex.raw('drop index if exists api_tokens_member_idx');
  await knex.raw('drop index if exists api_tokens_team_idx');
  await knex.schema.alterTable('api_tokens', (t) => {
    t.dropUnique(['token_id'], 'api_tokens_token_id_unique');
    for (const column of ['token_id', 'seq', 'label', 'created_by', 'expires_at', 'revoked_at', 'last_used_at']) {
      t.dropColumn(column);
    }
  });
}
