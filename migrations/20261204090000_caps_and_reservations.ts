import type { Knex } from 'knex';

/**
 * Spend caps and reservations (spec §14, §15):
 * - `teams.payg_cap_minor` and `members.payg_cap_minor`: the monthly PAYG caps Billing sets (null: none);
 * - `team_payg_claims`: what each member's PAYG (spent and held) costs this period, as its workflow last claimed it;
 *   a claim is raised only while the team's claims stay within its cap (checked under the team row's lock), so the
 *   team's PAYG never passes the cap however many members spend at once;
 * - `member_usage.held`, `held_payg` and `payg_cap_minor`: what reservations hold (the PAYG part apart: it is not
 *   taken from `remaining`), and the member's cap, for reads.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('teams', (t) => {
    t.bigint('payg_cap_minor').nullable().comment('Monthly cap on the team PAYG charges, minor units; null: none');
  });
  await knex.schema.alterTable('members', (t) => {
    t.bigint('payg_cap_minor').nullable().comment('Monthly cap on this member PAYG charges, minor units');
  });
  await knex.schema.alterTable('member_usage', (t) => {
    t.bigint('held').notNullable().defaultTo(0).comment('Credits held by open reservations');
    t.bigint('held_payg').notNullable().defaultTo(0).comment('The part of held that would be PAYG');
    t.bigint('payg_cap_minor').nullable().comment('The member PAYG cap in force');
  });
  await knex.schema.createTable('team_payg_claims', (t) => {
    t.comment('Each member PAYG charge (spent and held) this period, as claimed against the team cap');
    t.string('team_id', 64).notNullable();
    t.timestamp('period_start', { useTz: true }).notNullable();
    t.string('user_id', 64).notNullable();
    t.bigint('claim_minor').notNullable();
    t.bigint('seq').notNullable().comment('Orders one member claims: an older one never overwrites a newer');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['team_id', 'period_start', 'user_id'], { constraintName: 'team_payg_claims_pkey' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('team_payg_claims');
  await knex.schema.alterTable('member_usage', (t) => {
    t.dropColumn('held');
    t.dropColumn('held_payg');
    t.dropColumn('payg_cap_minor');
  });
  await knex.schema.alterTable('members', (t) => t.dropColumn('payg_cap_minor'));
  await knex.schema.alterTable('teams', (t) => t.dropColumn('payg_cap_minor'));
}
