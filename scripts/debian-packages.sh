#!/usr/bin/env bash
# Prints each Debian package in scripts/debian-packages.txt with the version installed here and
# the version CI was last green on, so a failing run shows at once whether the archive moved
# underneath it. Informational: it never fails the build.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
while read -r package green; do
  [[ -z "$package" || "$package" == \#* ]] && continue
  got="$(dpkg-query -W -f '${Version}' "$package" 2>/dev/null)" || got="not installed"
  if [[ "$got" == "$green" ]]; then
    echo "debian: $package $got (as when last green)"
  else
    echo "debian: $package $got (last green on $green: a different build; see scripts/debian-packages.txt)"
  fi
done <"$root/scripts/debian-packages.txt"
