#!/bin/sh
# Creates or upgrades the Temporal databases on PostgreSQL: `temporal` (persistence) and
# `temporal_visibility`, with the schemas temporal-sql-tool carries. Idempotent: run before every
# server start (docker-compose.yml's schema job, npm run stack:prod). Variables as the server's
# config.yaml: POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, POSTGRES_PWD; TEMPORAL_SQL_TOOL names the
# tool (default: temporal-sql-tool on PATH, as in the temporalio/admin-tools image).
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is not set}"
: "${POSTGRES_USER:?POSTGRES_USER is not set}"
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) schema=postgresql/v12/temporal ;;
    *) schema=postgresql/v12/visibility ;;
  esac
  sql() {
    "$tool" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" \
      --pw "${POSTGRES_PWD:-}" --db "$db" "$@"
  }
  # create fails on a database that exists; setup-schema -v 0.0 makes only the version table, and
  # update-schema applies whatever versions are missing.
  sql create 2>/dev/null || echo "setup-schema: database $db exists"
  sql setup-schema -v 0.0
  sql update-schema --schema-name "$schema"
done
echo "setup-schema: temporal and temporal_visibility are up to date"
