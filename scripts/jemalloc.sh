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
apt_install libjemalloc2 "install jemalloc 5 (libjemalloc.so.2) where stack/allocator.ts looks"
