#!/usr/bin/env bash
# Compiles the KFP v2 training pipeline (scripts/kfp/training_pipeline.py) into the pipeline-spec
# fixture test/fixtures/kfp/training-pipeline.yaml, with the KFP SDK installed hash-pinned into a
# venv of its own under .tools/kfp-venv. Idempotent: the venv is (re)built only when it is missing,
# broken, or scripts/kfp/requirements.txt changed; the compile itself is deterministic, so a rerun
# leaves the fixture byte-identical. Needs python3 (3.11, the interpreter the lock was made for)
# and the Python package registry; no GCP access.
#
# Usage: scripts/kfp/compile.sh [OUTPUT.yaml]      (default: test/fixtures/kfp/training-pipeline.yaml)
# Env:   KFP_PYTHON  interpreter to build the venv with (default: python3.11 if on PATH, else python3)
#
# To change the SDK version: edit scripts/kfp/requirements.in, then regenerate the lock with
#   pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-find-links \
#     --no-emit-index-url -o scripts/kfp/requirements.txt scripts/kfp/requirements.in
# (pip-tools in a throwaway venv, run with Python 3.11 on linux x86_64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/kfp"
venv="$root/.tools/kfp-venv"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
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

want_stamp() {
  # The lock's hash plus the interpreter version: a new Python (or a new lock) means a new venv.
  local py="$1"
  printf '%s %s\n' "$(sha256sum "$requirements" | cut -d' ' -f1)" \
    "$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
}

ensure_venv() {
  local python want t0
  [[ -f "$requirements" ]] || die "missing $requirements."
  python="$(pick_python)"
  want="$(want_stamp "$python")" || die "$python does not run."
  if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
    "$venv/bin/python" -c 'import kfp' 2>/dev/null; then
    return
  fi
  t0=$(date +%s)
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    step "warning: $python is not Python 3.11; the lock was made for 3.11, so pip may reject it."
  step "creating $venv and installing the KFP SDK (hash-pinned, scripts/kfp/requirements.txt)…"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" >&2 || die "$python -m venv failed." \
    "On Debian: apt-get install python3-venv (or python3.11-venv)."
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
    -r "$requirements" >&2 ||
    die "pip could not install scripts/kfp/requirements.txt with --require-hashes." \
      "Is the Python package registry reachable? Is this Python 3.11 on linux x86_64?" \
      "If requirements.in changed, regenerate the lock (see the header of this script)."
  local conflicts
  conflicts="$("$venv/bin/python" -m pip check 2>&1)" ||
    die "the installed packages conflict (pip check failed):" "$conflicts"
  printf '%s\n' "$want" >"$stamp"
  step "KFP SDK $("$venv/bin/python" -c 'import kfp; print(kfp.__version__)') ready in $(elapsed "$t0")"
}

compile_pipeline() {
  local t0
  t0=$(date +%s)
  step "compiling scripts/kfp/training_pipeline.py -> ${output#"$root/"}…"
  "$venv/bin/python" "$here/training_pipeline.py" --output "$output" >/dev/null ||
    die "compiling the pipeline failed (see the Python traceback above)."
  step "wrote ${output#"$root/"} in $(elapsed "$t0")"
}

ensure_venv
compile_pipeline
