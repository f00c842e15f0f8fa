#!/bin/sh
# Runs once, when the postgresql volume is first initialised (docker-entrypoint-initdb.d).
# Creates the application's own role and database; Temporal's auto-setup creates its
# `temporal` and `temporal_visibility` databases itself with the superuser account.
# Changing APP_DB_* later has no effect on an existing volume (`docker compose down -v` to start over).
set -e  # not -u: the entrypoint sources (rather than runs) this file when it is not executable

: "${APP_DB_NAME:=ai_credits}"
: "${APP_DB_USER:=ai_credits}"
: "${APP_DB_PASSWORD:?APP_DB_PASSWORD must be set}"

# psql variables (:"ident" / :'literal') quote the values, so names and passwords need no escaping here.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_db="$APP_DB_NAME" -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
SQL

echo "initdb: created database ${APP_DB_NAME} owned by ${APP_DB_USER}"
