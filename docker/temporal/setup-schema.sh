#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-schema, image temporalio/admin-tools): creates Temporal's
# two databases on the stack's PostgreSQL when missing and brings both schemas to the version this image ships,
# which is the server's version. Safe to run again: an image upgrade upgrades the schemas.
set -eu

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for target in temporal:temporal temporal_visibility:visibility; do
  db=${target%%:*}
  schema=/etc/temporal/schema/postgresql/v12/${target##*:}/versioned
  sql_tool --db "$db" create
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$schema"
done
echo "Temporal schemas are up to date"
