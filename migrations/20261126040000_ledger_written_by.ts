import type { Knex } from 'knex';

/**
 * Who wrote a ledger row: the member workflow's activity, or the API's write-through of a consumption it was just
 * answered for (the same row either way, by its unique key: whoever came first). Rows before this are the workflow's.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `alter table ledger_entries
       add column written_by varchar(16) not null default 'workflow',
       add constraint ledger_entries_written_by_check check (written_by in ('workflow', 'api'))`,
  );
  await knex.raw(
    `comment on column ledger_entries.written_by is 'workflow (its activity) or api (write-through after the answer)'`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table ledger_entries drop column written_by');
}
