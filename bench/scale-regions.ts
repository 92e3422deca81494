// bench:scale's regions and projects. Each (project, region) is an environment of the bench
// pipeline with prediction runs of its own; Vertex's quotas are per project and region (as the
// emulator counts them: emulators/vertex-ai/policy.ts; the worker's budget and the region watch
// key the same way), so each is reported on its own: its jobs, reads, 429s and detection lag.
import { busiestWindow } from '../emulators/vertex-ai/control-client';
import type { JobView } from '../emulators/vertex-ai/control-schema';
import { projectNumberOf } from '../emulators/vertex-ai/names';
import { BENCH_PROJECT, percentile } from './stack';

export const BENCH_REGIONS = ['us-central1', 'europe-west4', 'asia-northeast1', 'us-east1', 'europe-west1'];
export const BENCH_PROJECTS = [BENCH_PROJECT, `${BENCH_PROJECT}-2`];

/** One (project, region): the bench config's environment there. */
export interface Cell {
  environment: string;
  project: string;
  region: string;
}

const countFlag = (flag: string, value: string, max: number) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`--${flag} must be a whole number from 1 to ${max}, got "${value}"`);
  return n;
};

/**
 * The first `regions` regions in each of the first `projects` projects. One region in one project
 * keeps the environment "bench" of every other bench, so that run's ids and figures are as before.
 */
export function benchCells(regionsFlag: string, projectsFlag: string): Cell[] {
  const regions = BENCH_REGIONS.slice(0, countFlag('regions', regionsFlag, BENCH_REGIONS.length));
  const projects = BENCH_PROJECTS.slice(0, countFlag('projects', projectsFlag, BENCH_PROJECTS.length));
  if (regions.length === 1 && projects.length === 1)
    return [{ environment: 'bench', project: projects[0]!, region: regions[0]! }];
  return projects.flatMap((project, p) =>
    regions.map((region) => ({ environment: `p${p + 1}-${region}`, project, region })),
  );
}

/** A project (by id or number, as Vertex names it back) and region as one key. */
const scopeKey = (project: string, region: string) => `${projectNumberOf(project)}/${region}`;

/** The (project, region) a request's parent or name points at, as scopeKey makes it. */
export function scopeOfRequest(request: unknown): string | undefined {
  const m = /"(?:parent|name)":"projects\/([^/"]+)\/locations\/([^/"]+)/.exec(JSON.stringify(request ?? {}));
  return m ? scopeKey(m[1]!, m[2]!) : undefined;
}

/** A call from the emulator's call log, as bench:scale keeps it. */
export interface LoggedCall {
  t: number;
  method: string;
  code: string;
  firstPage: boolean;
  scope: string | undefined;
}

/**
 * Per (project, region): jobs, Vertex reads a minute in the in-flight window (all of them and the
 * watch's: its Lists, or the per-job watch's every read), 429s at the emulator, detection lag, and
 * the share of the region's read quota the watch used.
 */
export function perRegionFigures(args: {
  cells: Cell[];
  calls: LoggedCall[];
  jobs: JobView[];
  lags: { environment: string; ms: number }[];
  window: { from: number; to: number };
  readsPerMinute: number;
  createsPerMinute: number;
  perJobWatch: boolean;
}) {
  const minutes = (args.window.to - args.window.from) / 60_000;
  const perMinute = (n: number) => Math.round((n / minutes) * 10) / 10;
  return args.cells.map(({ environment, project, region }) => {
    const key = scopeKey(project, region);
    const calls = args.calls.filter((c) => c.scope === key);
    const reads = calls.filter((c) => c.t >= args.window.from && c.t < args.window.to && /^(Get|List)/.test(c.method));
    const lists = reads.filter((c) => c.method.startsWith('List'));
    const watchReads = args.perJobWatch ? reads : lists;
    const lags = args.lags
      .filter((l) => l.environment === environment)
      .map((l) => l.ms)
      .sort((a, b) => a - b);
    return {
      project,
      region,
      environment,
      jobs: args.jobs.filter((j) => scopeOfRequest({ name: j.name }) === key).length,
      listsPerMinute: perMinute(lists.length),
      readsPerMinute: perMinute(reads.length),
      quotaErrors: calls.filter((c) => c.code === 'RESOURCE_EXHAUSTED').length,
      detectionLagMs: { p50: percentile(lags, 0.5), p99: percentile(lags, 0.99), measured: lags.length },
      watchReadShareOfQuota: Math.round((watchReads.length / minutes / args.readsPerMinute) * 1000) / 1000,
      creates: createRamp(
        calls.filter((c) => c.method.startsWith('Create') && c.code === 'OK').map((c) => c.t),
        args.createsPerMinute,
      ),
    };
  });
}

/**
 * How fast a region's jobs were created against the time its create quota allows them: N creates at
 * Q a minute take N / Q minutes (2,000 at 60: ~33 min). `overAllowed` is the ramp's excess over that
 * (0.05: 5 % slower); `busiest60s` what Vertex's per-minute count saw at its worst.
 */
export function createRamp(times: number[], quotaPerMinute: number) {
  if (times.length === 0) return null;
  const sorted = [...times].sort((a, b) => a - b);
  const firstToLastMs = sorted.at(-1)! - sorted[0]!;
  const allowedMs = Math.round((sorted.length / quotaPerMinute) * 60_000);
  return {
    jobs: sorted.length,
    firstToLastMs,
    allowedMs,
    overAllowed: Math.round((firstToLastMs / allowedMs - 1) * 1000) / 1000,
    busiest60s: busiestWindow(sorted, 60_000),
  };
}
