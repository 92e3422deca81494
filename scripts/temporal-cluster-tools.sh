#!/usr/bin/env bash
# Provisions what the production topology (npm run stack:prod, test/stacks/prod*.test.ts) runs natively:
# the Temporal server and temporal-sql-tool built from the Go module proxy at the version pinned in
# deploy/temporal/version (the compose file's image tags are checked against it), and PostgreSQL
# from Debian. Idempotent: the binaries are cached under .tools/temporal-server/<version>/, so a
# warm run is a file check; a cold build takes about 5 minutes on 2 cores.
#
# Overrides: TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH name binaries to use as they are;
# CT_PG_BIN names a folder holding initdb, pg_ctl and postgres.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$root/.tools"
# The physical path: .tools may be a link shared between checkouts, and the paths written below must
# outlive the checkout that wrote them.
tools="$(cd "$root/.tools" && pwd -P)"
LOG_PREFIX=cluster-tools
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# shellcheck source=scripts/go-modules.sh
source "$root/scripts/go-modules.sh"

version="$(tr -d '[:space:]' <"$root/deploy/temporal/version")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "deploy/temporal/version holds '$version', not a version like 1.32.1."
cache="$tools/temporal-server/v$version"

build_server() {
  local t0 tmp
  t0=$(date +%s)
  command -v go >/dev/null || die "Go is needed to build the Temporal server." \
    "Install Go ≥ 1.26 (https://go.dev/doc/install), or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH."
  step "building Temporal server and temporal-sql-tool v$version with go install (about 5 min cold)…"
  mkdir -p "$tools/temporal-server"
  # Built beside the cache and renamed into place, so a build that is interrupted, or that races
  # another worktree's, never leaves a half-written cache behind.
  tmp="$(mktemp -d "$tools/temporal-server/.build-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  CGO_ENABLED=0 GOBIN="$tmp" go_install_exact go.temporal.io/server "v$version" -tags disable_grpc_modules \
    "go.temporal.io/server/cmd/server@v$version" "go.temporal.io/server/cmd/tools/sql@v$version" >&2 ||
    die "go install go.temporal.io/server/cmd/server@v$version failed." \
      "Check the Go module proxy is reachable (go env GOPROXY) and Go is recent enough (go version)."
  mv "$tmp/server" "$tmp/temporal-server"
  mv "$tmp/sql" "$tmp/temporal-sql-tool"
  chmod 755 "$tmp"
  if ! mv -T "$tmp" "$cache" 2>/dev/null; then
    [[ -x "$cache/temporal-server" ]] || die "could not move the build into $cache."
    step "another build finished first; using it"
  fi
  trap - EXIT
  step "Temporal server ready in $(elapsed "$t0")"
}

if [[ -n "${TEMPORAL_SERVER_PATH:-}" || -n "${TEMPORAL_SQL_TOOL_PATH:-}" ]]; then
  [[ -x "${TEMPORAL_SERVER_PATH:-}" && -x "${TEMPORAL_SQL_TOOL_PATH:-}" ]] ||
    die "TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH must both name executables." \
      "Unset both to let this script build them."
  server="$TEMPORAL_SERVER_PATH"
  sql_tool="$TEMPORAL_SQL_TOOL_PATH"
else
  [[ -x "$cache/temporal-server" && -x "$cache/temporal-sql-tool" ]] || build_server
  server="$cache/temporal-server"
  sql_tool="$cache/temporal-sql-tool"
fi

find_pg_bin() {
  if [[ -n "${CT_PG_BIN:-}" ]]; then
    echo "$CT_PG_BIN"
    return
  fi
  local d
  # Debian keeps the server binaries off PATH, one folder per major version; take the newest.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" ]] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

pg_bin="$(find_pg_bin || true)"
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    t0=$(date +%s)
    step "installing PostgreSQL from Debian (apt-get install postgresql)…"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 ||
      die "apt-get install postgresql failed." "Install PostgreSQL ≥ 12 yourself and set CT_PG_BIN to its bin folder."
    step "PostgreSQL installed in $(elapsed "$t0")"
    pg_bin="$(find_pg_bin || true)"
  fi
  [[ -n "$pg_bin" && -x "$pg_bin/initdb" ]] || die "PostgreSQL (initdb, pg_ctl, postgres) was not found." \
    "Debian/Ubuntu: sudo apt-get install postgresql. macOS: brew install postgresql@16." \
    "Or set CT_PG_BIN to the folder holding initdb and pg_ctl."
fi

cat >"$tools/cluster-tools.json.$$" <<JSON
{
  "temporalVersion": "$version",
  "temporalServer": "$server",
  "temporalSqlTool": "$sql_tool",
  "postgresBin": "$pg_bin"
}
JSON
mv "$tools/cluster-tools.json.$$" "$tools/cluster-tools.json"
step "ok: temporal-server=$server postgres=$pg_bin"
