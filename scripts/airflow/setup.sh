#!/usr/bin/env bash
# Provisions the Airflow the integration tests run (test/airflow.test.ts, and
# test/vertex-emulator/airflow-provider.test.ts for Airflow's Google provider): a venv at
# .tools/airflow-venv with Airflow, the Temporal Python SDK and apache-airflow-providers-google,
# installed from the hash-pinned
# integrations/airflow/requirements.txt. Idempotent: the venv is rebuilt only when that file's
# sha256 differs from the one recorded after the last good install, so a warm run costs nothing.
#
# Overrides: AIRFLOW_PYTHON names the interpreter to build the venv with (default python3; the
# requirements are compiled for CPython 3.11 on linux x86_64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/airflow-venv"
requirements="$root/integrations/airflow/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${AIRFLOW_PYTHON:-python3}"
AIRFLOW_VERSION="3.3.2"

LOG_PREFIX=airflow
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

[[ -f "$requirements" ]] || die "$requirements is missing." "Restore it from git: git checkout -- integrations/airflow/requirements.txt"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

# Warm path: same requirements, and the venv's interpreter still runs (a removed or upgraded
# base Python leaves a venv whose symlinks point nowhere).
if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" && -x "$venv/bin/airflow" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
  step "ok: Airflow $AIRFLOW_VERSION venv up to date ($venv)"
  exit 0
fi

t0=$(date +%s)
command -v "$python" >/dev/null || die "$python is needed to build the Airflow venv." \
  "Install Python 3.11 with venv (apt-get install python3 python3-venv), or set AIRFLOW_PYTHON to one."
py_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$py_version" == "3.11" ]] ||
  step "note: $python is Python $py_version; requirements.txt is compiled for 3.11, so pip may find no matching wheel"

step "creating venv at .tools/airflow-venv with $python ($py_version)…"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2 || die "$python -m venv failed." \
  "On Debian: apt-get install python3-venv. Or set AIRFLOW_PYTHON to a Python that has venv."

step "installing Airflow $AIRFLOW_VERSION, temporalio and the Google provider (hash-pinned, ~265 packages; about 2 min with a warm pip cache, 6 cold)…"
# --require-hashes: every package, transitive ones included, is exactly the one compiled and
# checked; nothing is resolved at install time.
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$requirements" >&2 ||
  die "pip could not install integrations/airflow/requirements.txt (the venv is left unstamped, so the next run starts over)." \
    "Check that PyPI is reachable (pip config list; pip download --no-deps apache-airflow==$AIRFLOW_VERSION)." \
    "If a hash mismatch is reported, regenerate the file from requirements.in with pip-compile --generate-hashes" \
    "(the command is at the top of integrations/airflow/requirements.in), then rerun bash scripts/airflow/setup.sh."

# A throwaway AIRFLOW_HOME: airflow creates one (~/airflow by default) on any command.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
got="$(AIRFLOW_HOME="$scratch" "$venv/bin/airflow" version 2>/dev/null | tail -n1)" ||
  die "the installed airflow does not run." "Run $venv/bin/airflow version to see why, then rerun bash scripts/airflow/setup.sh."
[[ "$got" == "$AIRFLOW_VERSION" ]] || die "airflow version printed '$got', expected $AIRFLOW_VERSION." \
  "Keep AIRFLOW_VERSION in scripts/airflow/setup.sh and apache-airflow in integrations/airflow/requirements.in in step."

echo "$want" >"$stamp"
step "ok: Airflow $got ready in $(elapsed "$t0") ($venv)"
