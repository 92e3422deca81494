#!/usr/bin/env bash
# Provisions the venv the Python-client suite of the Vertex AI emulator runs in
# (test/vertex-emulator/python, driven by test/vertex-emulator/python-client.test.ts): Google's
# google-cloud-aiplatform and pytest at .tools/vertex-python-venv, installed from the hash-pinned
# test/vertex-emulator/python/requirements.txt. Idempotent: rebuilt only when that file's sha256
# differs from the one recorded after the last good install.
#
# Overrides: VERTEX_PYTHON names the interpreter to build the venv with (default python3; the
# requirements are compiled for CPython 3.11 on linux x86_64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.tools/vertex-python-venv"
requirements="$root/test/vertex-emulator/python/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${VERTEX_PYTHON:-python3}"

LOG_PREFIX=vertex-python
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

[[ -f "$requirements" ]] || die "$requirements is missing." "Restore it from git: git checkout -- test/vertex-emulator/python/requirements.txt"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" && -x "$venv/bin/pytest" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
  step "ok: google-cloud-aiplatform venv up to date ($venv)"
  exit 0
fi

t0=$(date +%s)
command -v "$python" >/dev/null || die "$python is needed to build the venv." \
  "Install Python 3.11 with venv (apt-get install python3 python3-venv), or set VERTEX_PYTHON to one."
py_version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$py_version" == "3.11" ]] ||
  step "note: $python is Python $py_version; requirements.txt is compiled for 3.11, so pip may find no matching wheel"

step "creating venv at .tools/vertex-python-venv with $python ($py_version)…"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv" >&2 || die "$python -m venv failed." "On Debian: apt-get install python3-venv."

step "installing google-cloud-aiplatform and pytest (hash-pinned, ~50 packages; about 45 s cold)…"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$requirements" >&2 ||
  die "pip could not install test/vertex-emulator/python/requirements.txt (the venv is left unstamped, so the next run starts over)." \
    "Check that PyPI is reachable. After a hash mismatch, regenerate the file from requirements.in with the pip-compile" \
    "command at its top, then rerun bash scripts/vertex-python/setup.sh."
"$venv/bin/python" -c 'from google.cloud import aiplatform_v1' ||
  die "the installed google-cloud-aiplatform does not import." "Run $venv/bin/python -c 'from google.cloud import aiplatform_v1' to see why."

echo "$want" >"$stamp"
step "ok: google-cloud-aiplatform ready in $(elapsed "$t0") ($venv)"
