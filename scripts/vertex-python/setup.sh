#!/usr/bin/env bash
# Provisions the venv the Python-client suite of the Vertex AI emulator runs in
# (test/vertex-emulator/python, driven by test/vertex-emulator/python-client.test.ts): Google's
# google-cloud-aiplatform and pytest at .tools/vertex-python-venv, from the hash-pinned
# test/vertex-emulator/python/requirements.txt (49 packages, 10 to 30 s cold). Idempotent (see
# pinned_venv in scripts/lib.sh).
#
# Overrides: VERTEX_PYTHON names the interpreter to build the venv with (default python3; the
# requirements are compiled for CPython 3.11.7 on linux x86_64).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

LOG_PREFIX=vertex-python
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

aiplatform_imports() {
  "$1/bin/python" -c 'from google.cloud import aiplatform_v1' ||
    die "the installed google-cloud-aiplatform does not import." "Run $1/bin/python -c 'from google.cloud import aiplatform_v1' to see why."
}

pinned_venv "$root/.tools/vertex-python-venv" "$root/test/vertex-emulator/python/requirements.txt" \
  "${VERTEX_PYTHON:-python3}" "google-cloud-aiplatform and pytest" aiplatform_imports
