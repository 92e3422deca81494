# Shared by the provisioning scripts: one progress line per step, and errors that say what to do.
# Set LOG_PREFIX before sourcing (e.g. "tools", "kfp").

step() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; }

# die "what failed" "what to do" ["more to do" …]
die() {
  printf '\n%s: ERROR: %s\n' "$LOG_PREFIX" "$1" >&2
  shift
  for line in "$@"; do printf '%*s %s\n' "${#LOG_PREFIX}" '' "$line" >&2; done
  exit 1
}

elapsed() { echo "$(($(date +%s) - $1))s"; }
