#!/usr/bin/env bash
# Compiles the KFP v2 training pipeline (scripts/kfp/training_pipeline.py) into the pipeline-spec
# fixture test/fixtures/kfp/training-pipeline.yaml, with the KFP SDK installed hash-pinned into a
# venv of its own under .tools/kfp-venv (pinned_venv in scripts/lib.sh). Idempotent: the venv is
# (re)built only when it is missing, broken, or scripts/kfp/requirements.txt changed; the compile
# itself is deterministic, so a rerun leaves the fixture byte-identical. Needs python3 (3.11, the
# interpreter the lock was made for) and the Python package registry; no GCP access.
#
# Usage: scripts/kfp/compile.sh [OUTPUT.yaml]      (default: test/fixtures/kfp/training-pipeline.yaml)
# Env:   KFP_PYTHON  interpreter to build the venv with (default: python3.11 if on PATH, else python3)
#
# To change the SDK version: edit scripts/kfp/requirements.in, then regenerate the lock with
#   bash scripts/python-lock.sh scripts/kfp/requirements.in scripts/kfp/requirements.txt
# One of its packages, kfp-server-api, is published as an sdist only; the setuptools that builds it
# is pinned by scripts/kfp/build-constraints.txt (see the .in beside it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/kfp"
venv="$root/.tools/kfp-venv"
requirements="$here/requirements.txt"
output="${1:-$root/test/fixtures/kfp/training-pipeline.yaml}"

LOG_PREFIX=kfp
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

pick_python() {
  if [[ -n "${KFP_PYTHON:-}" ]]; then
    command -v "$KFP_PYTHON" >/dev/null || die "KFP_PYTHON=$KFP_PYTHON is not a command."
    echo "$KFP_PYTHON"
  elif command -v python3.11 >/dev/null; then
    echo python3.11
  elif command -v python3 >/dev/null; then
    echo python3
  else
    die "python3 is needed to compile the pipeline." "Install Python 3.11 (with venv), or set KFP_PYTHON."
  fi
}

kfp_imports() {
  "$1/bin/python" -c 'import kfp' || die "the installed KFP SDK does not import."
}

compile_pipeline() {
  local t0
  t0=$(date +%s)
  step "compiling scripts/kfp/training_pipeline.py -> ${output#"$root/"}…"
  "$venv/bin/python" "$here/training_pipeline.py" --output "$output" >/dev/null ||
    die "compiling the pipeline failed (see the Python traceback above)."
  step "wrote ${output#"$root/"} in $(elapsed "$t0")"
}

pinned_venv "$venv" "$requirements" "$(pick_python)" "the KFP SDK" kfp_imports "$here/build-constraints.txt"
compile_pipeline
