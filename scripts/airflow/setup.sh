#!/usr/bin/env bash
# Provisions the Airflow the integration tests run (test/integrations/airflow.test.ts, and
# test/vertex-emulator/airflow-provider.test.ts for Airflow's Google provider, and the package's
# own pytest tests, integrations/airflow/tests): a venv at .tools/airflow-venv with Airflow, the
# Temporal Python SDK, apache-airflow-providers-google and pytest,
# from the hash-pinned integrations/airflow/requirements.txt (267 packages; about 1 min cold on an
# idle machine, most of it compiling bytecode). Idempotent (see pinned_venv in scripts/lib.sh).
#
# Overrides: AIRFLOW_PYTHON names the interpreter to build the venv with (default python3; the
# requirements are compiled for CPython 3.11.7 on linux x86_64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
AIRFLOW_VERSION="3.3.2"

LOG_PREFIX=airflow
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

airflow_runs() {
  local got scratch
  # A throwaway AIRFLOW_HOME: airflow creates one (~/airflow by default) on any command.
  scratch="$(mktemp -d)"
  got="$(AIRFLOW_HOME="$scratch" "$1/bin/airflow" version 2>/dev/null | tail -n1)" ||
    die "the installed airflow does not run." "Run $1/bin/airflow version to see why, then rerun bash scripts/airflow/setup.sh."
  rm -rf "$scratch"
  [[ "$got" == "$AIRFLOW_VERSION" ]] || die "airflow version printed '$got', expected $AIRFLOW_VERSION." \
    "Keep AIRFLOW_VERSION in scripts/airflow/setup.sh and apache-airflow in integrations/airflow/requirements.in in step."
}

pinned_venv "$root/.tools/airflow-venv" "$root/integrations/airflow/requirements.txt" "${AIRFLOW_PYTHON:-python3}" \
  "Airflow $AIRFLOW_VERSION with temporalio and the Google provider" airflow_runs
