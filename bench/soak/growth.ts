import { readFileSync } from 'node:fs';
import type { SoakLedger } from './ledger';
import type { StackProcess } from './prod-stack';

// What must not grow, measured from outside the processes: each one's resident set from
// /proc/<pid>/status, and how fast it grows. A killed worker comes back small, so a slope fitted
// across a restart would mistake the kill for a shrink (or its warm-up for a leak): the slope is
// fitted within each process's life (one intercept per pid, one common slope), which is what a
// leak looks like whether or not the process is restarted.

type Sample = SoakLedger['samples'][number];

/** `worker-2#12345`: the service and the pid of the process the sample is of. */
export const sampleProcess = (p: StackProcess) => `${p.name}#${p.pid}`;
export const serviceOf = (process: string) => process.split('#')[0]!;

export function rssBytes(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined; // exited between listing and reading
  }
}

export function sampleAll(processes: StackProcess[], at = new Date()): Sample[] {
  return processes.flatMap((p) => {
    const rss = rssBytes(p.pid);
    return rss === undefined ? [] : [{ at: at.toISOString(), process: sampleProcess(p), rssBytes: rss }];
  });
}

/**
 * Least squares of y on t (hours) with one intercept per group: Σ(t−t̄ᵍ)(y−ȳᵍ) / Σ(t−t̄ᵍ)². Groups
 * with one point add nothing. Null when no group has two points at different times.
 */
export function withinSlope(groups: { t: number; y: number }[][]): number | null {
  let num = 0;
  let den = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    const tm = g.reduce((a, p) => a + p.t, 0) / g.length;
    const ym = g.reduce((a, p) => a + p.y, 0) / g.length;
    for (const p of g) {
      num += (p.t - tm) * (p.y - ym);
      den += (p.t - tm) ** 2;
    }
  }
  return den > 0 ? num / den : null;
}

export interface Growth {
  service: string;
  /** Processes the service ran as (1 + its restarts seen). */
  lives: number;
  samples: number;
  peakMb: number;
  lastMb: number;
  /** MB per hour, within each life (null: too few samples). */
  slopeMbPerHour: number | null;
}

const MB = 1024 * 1024;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/**
 * Per service (worker-1, temporal, vertex-ai-emulator, …): peak and slope of RSS. A life's first
 * `warmupMs` are left out: a process filling its caches after a start is not a leak.
 */
export function growthOf(samples: Sample[], warmupMs: number): Growth[] {
  const byService = new Map<string, Map<string, Sample[]>>();
  for (const s of samples) {
    const lives = byService.get(serviceOf(s.process)) ?? new Map<string, Sample[]>();
    byService.set(serviceOf(s.process), lives.set(s.process, [...(lives.get(s.process) ?? []), s]));
  }
  return [...byService]
    .map(([service, lives]) => {
      const all = [...lives.values()].flat();
      const groups = [...lives.values()].map((life) => {
        const born = Date.parse(life[0]!.at);
        return life
          .filter((s) => Date.parse(s.at) - born >= warmupMs)
          .map((s) => ({ t: Date.parse(s.at) / 3_600_000, y: s.rssBytes / MB }));
      });
      const slope = withinSlope(groups);
      return {
        service,
        lives: lives.size,
        samples: all.length,
        peakMb: round(Math.max(...all.map((s) => s.rssBytes)) / MB, 1),
        lastMb: round(all.at(-1)!.rssBytes / MB, 1),
        slopeMbPerHour: slope === null ? null : round(slope),
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}

/** Ordinary least squares slope of y per hour over (at, y) points; null with fewer than two times. */
export function slopePerHour(points: { at: string; y: number }[]): number | null {
  const s = withinSlope([points.map((p) => ({ t: Date.parse(p.at) / 3_600_000, y: p.y }))]);
  return s === null ? null : round(s);
}
