import { existsSync } from 'node:fs';

/**
 * Where Debian's libjemalloc2 puts the library, per architecture; the image links it at
 * /usr/local/lib/libjemalloc.so.2 (Dockerfile), the native topology finds it here.
 */
export const JEMALLOC_PATHS = [
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
];

/**
 * jemalloc's settings for the worker (MALLOC_CONF; the image sets the same): pages it frees go back
 * to the kernel after 1 s instead of 10, purged by its own background threads (an idle arena is not
 * purged otherwise), and the process's threads (Node's, the SDK core's tokio runtime, libuv's)
 * share 2 arenas instead of 4 per CPU. One worker with 5,000 jobs in flight: peak RSS 823 → 641 MB
 * (docs/vertex-quota.md, "At 10,000 jobs"). An operator's own MALLOC_CONF wins.
 */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2';

/** The jemalloc shared library of this machine, if installed (scripts/jemalloc.sh). */
export function jemallocLibrary(): string | undefined {
  return JEMALLOC_PATHS.find((p) => existsSync(p));
}

/**
 * The environment every worker process starts with beside its own: jemalloc preloaded, as in the
 * image. glibc's malloc keeps what the SDK's core and Node free in its per-thread arenas, so
 * a worker watching thousands of jobs holds ~200 MB more with it (docs/production.md, "Memory").
 * Without the library (a machine that did not run scripts/jemalloc.sh) the worker runs on glibc
 * and says so at start.
 */
export function workerAllocatorEnv(): Record<string, string> {
  const lib = jemallocLibrary();
  if (!lib) return {};
  const others = process.env.LD_PRELOAD?.split(/[:\s]+/).filter((p) => p && !p.includes('libjemalloc')) ?? [];
  return { LD_PRELOAD: [lib, ...others].join(':'), MALLOC_CONF: process.env.MALLOC_CONF ?? JEMALLOC_CONF };
}
