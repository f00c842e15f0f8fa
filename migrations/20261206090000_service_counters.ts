import type { Knex } from 'knex';

/**
 * Counters of what the workflows decide, kept in the transaction that writes the decision and served at `/metrics`
 * by every API instance alike (an API's own counters see only the requests it answered):
 * - `reservations_expired`: holds the member workflows released at their `expiresAt` (or at the period end),
 *   whichever API instance made them and whether or not one is still running.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('service_counters', (t) => {
    t.comment('Service-wide counters written with the decisions they count; served as metrics');
    t.string('name', 64).primary();
    t.bigint('value').notNullable().defaultTo(0);
  });
  await knex('service_counters').insert({ name: 'reservations_expired', value: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('service_counters');
}
