#!/usr/bin/env bash
# jemalloc for the worker processes: Debian's libjemalloc2, preloaded by the native topologies
# (stack/allocator.ts) as the image preloads it (Dockerfile). .ci/run calls this. Without it the
# workers run on glibc's malloc and hold ~200 MB more each at thousands of jobs (docs/production.md).
set -euo pipefail
LOG_PREFIX=jemalloc
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2; do
  if [[ -f "$lib" ]]; then
    step "$lib"
    exit 0
  fi
done
command -v apt-get >/dev/null || die "no libjemalloc.so.2 and no apt-get to install it" "install jemalloc 5 (libjemalloc.so.2) where stack/allocator.ts looks"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "installing jemalloc needs root" "run: sudo apt-get install -y libjemalloc2"
  SUDO=(sudo -n)
fi
t=$(date +%s)
step "installing Debian's libjemalloc2 (apt-get)…"
install() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libjemalloc2; }
if ! install >/tmp/ct-apt-jemalloc.log 2>&1; then
  "${SUDO[@]}" apt-get update >>/tmp/ct-apt-jemalloc.log 2>&1 || true
  install >>/tmp/ct-apt-jemalloc.log 2>&1 ||
    die "apt-get install libjemalloc2 failed (log: /tmp/ct-apt-jemalloc.log)" "install it by hand: apt-get install libjemalloc2"
fi
step "libjemalloc2 installed in $(elapsed "$t")"
