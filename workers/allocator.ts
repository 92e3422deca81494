import { readFileSync } from 'node:fs';

/**
 * The malloc this process runs on, as its memory map shows: the image preloads jemalloc
 * (Dockerfile); on glibc's the worker holds ~200 MB more at thousands of watched jobs
 * (docs/production.md, "Memory"), so the worker names it at start.
 */
export function processAllocator(): 'jemalloc' | 'glibc' | 'unknown' {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return 'unknown'; // not Linux
  }
  if (maps.includes('libjemalloc')) return 'jemalloc';
  return /\/libc[.-]/.test(maps) ? 'glibc' : 'unknown';
}
