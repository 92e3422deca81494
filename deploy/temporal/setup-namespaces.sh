#!/bin/sh
# Creates each namespace in CT_NAMESPACES (comma-separated) if missing, and the custom search
# attributes listed in search-attributes (beside this script) in each. Idempotent: docker-compose.yml's
# namespace job and npm run stack:prod run it after every server start. TEMPORAL_ADDRESS names the
# frontend; TEMPORAL_CLI the Temporal CLI (default: temporal on PATH, as in temporalio/admin-tools).
set -eu
: "${CT_NAMESPACES:?CT_NAMESPACES (comma-separated namespaces, from the pipeline config) is not set}"
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is not set}"
cli="${TEMPORAL_CLI:-temporal}"
here="$(cd "$(dirname "$0")" && pwd)"
retention="${CT_NAMESPACE_RETENTION:-30d}"

# retry WHAT CMD…: the frontend answers before it serves, and a new namespace reaches the
# server's namespace cache some seconds after it is registered.
retry() {
  what="$1"
  shift
  tries=0
  until out="$("$@" 2>&1)"; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "setup-namespaces: $what failed: $out" >&2; exit 1; }
    sleep 0.5
  done
}

retry "Temporal at $TEMPORAL_ADDRESS serving" "$cli" operator cluster health --address "$TEMPORAL_ADDRESS"

for ns in $(echo "$CT_NAMESPACES" | tr ',' ' '); do
  if "$cli" operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$ns" >/dev/null 2>&1; then
    echo "setup-namespaces: namespace $ns exists"
  else
    "$cli" operator namespace create --address "$TEMPORAL_ADDRESS" -n "$ns" --retention "$retention"
  fi
  grep -v '^#' "$here/search-attributes" | while read -r name type; do
    [ -n "$name" ] || continue
    retry "search attribute $name in $ns" "$cli" operator search-attribute create \
      --address "$TEMPORAL_ADDRESS" --namespace "$ns" --name "$name" --type "$type"
  done
  echo "setup-namespaces: $ns ready"
done
