#!/usr/bin/env bash
# Compiles a requirements.in into the hash-pinned lock that pinned_venv (scripts/lib.sh) installs,
# with the pinned uv (scripts/uv.requirements.txt), for CPython 3.11.7 on linux x86_64 (what the
# machines and CI run; glibc wheels of manylinux_2_28 and older): every package, transitive ones
# included, as name==version with the sha256 of each of its files, extras stripped (the lock is
# the flat set to install), and no index host written. Pins already in OUT are kept unless IN no
# longer allows them (uv prefers an existing output file's versions), so a change to IN moves only
# what it must; to upgrade a package on purpose, pass -P NAME (or -U for all) after OUT.
#
# Usage: bash scripts/python-lock.sh IN OUT [uv pip compile options…]
#   e.g. bash scripts/python-lock.sh integrations/airflow/requirements.in integrations/airflow/requirements.txt
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

LOG_PREFIX=python-lock
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

[[ $# -ge 2 ]] || die "usage: bash scripts/python-lock.sh IN OUT [uv pip compile options…]"
in="$(realpath "$1")" out="$(realpath -m "$2")"
shift 2
[[ -f "$in" ]] || die "$in is not a file."
uv="$(pinned_uv python3)"

# Run beside IN, so the annotations read `-r requirements.in`, and name the command in the header by
# paths from the repository's root, so it reruns from there.
cd "$(dirname "$in")"
"$uv" pip compile --quiet --no-config --no-python-downloads --cache-dir "$(uv_cache)" \
  --python-version 3.11.7 --python-platform x86_64-manylinux_2_28 --generate-hashes \
  --custom-compile-command "bash scripts/python-lock.sh ${in#"$root/"} ${out#"$root/"}${*:+ $*}" \
  -o "$out" "$@" "$(basename "$in")" >&2 ||
  die "uv pip compile could not lock ${in#"$root/"} (see above)."
step "wrote ${out#"$root/"}"
