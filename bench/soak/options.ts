import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SeasonSize } from './season';

// `npm run soak` options. Two sizes: the season of the issue (an hour, a day a minute, 6 countries ×
// 3 SNS × 2 models) and --ci, small enough for `npm test` (≤ 5 minutes on 2 cores with the stack's start).

export interface SoakOptions {
  size: SeasonSize;
  seed: number;
  /** Run `npm run stack:prod` with its pre-step (tools, build); false: the script on the build there is. */
  build: boolean;
  /** The workflow bundle the stack's workers load (CT_WORKFLOW_BUNDLE); the build's when unset. */
  workflowBundle?: string;
  /** CT_VERTEX_WATCH_INTERVAL_MS: with the watch's read share (the default), the longest other callers' reads stretch its interval to. */
  watchIntervalMs: number;
  /** How long a Vertex job runs on the emulator. */
  jobRunningMs: number;
  sampleEveryMs: number;
  vertexFaultEveryMs: number;
  workerKillEveryMs: number;
  /** When in the season (fractions) the Temporal server and PostgreSQL are SIGKILLed. */
  serverKillsAt: number[];
  postgresKillsAt: number[];
  /**
   * When in the season (a fraction) the workers are deployed blue-green to this checkout's build
   * (`npm run stack:prod:deploy`); undefined: no deploy, the stack runs this build throughout.
   */
  deployAt?: number;
  /** The git ref the season starts on (its workflow code); default: before the last change to workflows/. */
  deployFrom?: string;
  /** A deliberately broken build (broken-builds.ts) the whole season runs on, with no deploy: the checker must fail. */
  breakBuild?: string;
  /** A commit-late create lands this long after the caller gave up. */
  lateCommitMs: number;
  /** CT_VERTEX_LATE_CREATE_WINDOW_MS: longer than lateCommitMs plus a retry's two listings. */
  lateCreateWindowMs: number;
  /** How long the runs left at the season's end may take to finish before they count as stuck. */
  drainMs: number;
  ledgerPath: string;
  resultPath: string;
  stackLogPath: string;
  /** Keep the stack's data folder even when the soak passed (a failed soak always keeps it). */
  keepData: boolean;
  ci: boolean;
}

const usage = `npm run soak [-- options]
  --hours H           season length in wall-clock hours (default 1; --ci: 2 minutes)
  --day-seconds N     a simulated day every N seconds (default 60; --ci 25)
  --countries N       countries (default 6; --ci 2)
  --sns N             social networks (default 3; --ci 1)
  --models N          1: engagement per segment; 2: also churn, one model on hourly partitions (default 2)
  --hours-per-day N   churn's hourly partitions per simulated day (default 3)
  --start YYYY-MM-DD  first simulated day (default: the week of the US fall-back, 2026-10-30; --ci 2026-10-31)
  --timezone TZ       where the days and hours are counted (default America/New_York)
  --seed N            the season's random choices (default 25)
  --out DIR           where ledger.json, result.json and stack.log go (default .data/soak/<time>)
  --ledger FILE       the ledger's path (default DIR/ledger.json)
  --result FILE       the result's path (default DIR/result.json)
  --no-build          start the stack's script on the build there is (skips npm run stack:prod's pre-step)
  --deploy-from REF   start the season on REF's workflow code and deploy this build blue-green mid-season
                      (default: the commit before the last one that changed workflows/)
  --no-deploy         no deploy: the stack runs this build throughout
  --break NAME        run the season on a deliberately broken build of this checkout (no deploy) to see
                      the checker fail naming the ids: cancel-skips-job (never the default)
  --keep-data         keep the stack's data folder when the soak passes (a failed one is always kept)
  --ci                the CI size`;

export function parseOptions(argv: string[], now = new Date()): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      hours: { type: 'string' },
      'day-seconds': { type: 'string' },
      countries: { type: 'string' },
      sns: { type: 'string' },
      models: { type: 'string' },
      'hours-per-day': { type: 'string' },
      start: { type: 'string' },
      timezone: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      ledger: { type: 'string' },
      result: { type: 'string' },
      'no-build': { type: 'boolean' },
      'deploy-from': { type: 'string' },
      'no-deploy': { type: 'boolean' },
      break: { type: 'string' },
      'keep-data': { type: 'boolean' },
      ci: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.error(usage);
    process.exit(0);
  }
  const ci = values.ci ?? false;
  const num = (name: string, v: string | undefined, fallback: number, min: number, max: number) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const daySeconds = num('day-seconds', values['day-seconds'], ci ? 25 : 60, 5, 86_400);
  const hours = num('hours', values.hours, ci ? 2 / 60 : 1, 0.01, 48);
  const days = Math.max(2, Math.round((hours * 3600) / daySeconds));
  const out = path.resolve(values.out ?? path.join('.data', 'soak', now.toISOString().replace(/[:.]/g, '-')));
  return {
    size: {
      days,
      daySeconds,
      countries: num('countries', values.countries, ci ? 2 : 6, 1, 10),
      sns: num('sns', values.sns, ci ? 1 : 3, 1, 5),
      models: num('models', values.models, 2, 1, 2),
      hoursPerDay: num('hours-per-day', values['hours-per-day'], 3, 1, 24),
      startDate: values.start ?? (ci ? '2026-10-31' : '2026-10-30'),
      timezone: values.timezone ?? 'America/New_York',
      chunkSeconds: ci ? 10 : 30,
    },
    seed: num('seed', values.seed, 25, 0, 2 ** 31),
    build: !(values['no-build'] ?? false),
    workflowBundle: process.env.CT_WORKFLOW_BUNDLE || undefined,
    watchIntervalMs: ci ? 2_000 : 5_000,
    jobRunningMs: ci ? 3_000 : 8_000,
    sampleEveryMs: ci ? 5_000 : 15_000,
    vertexFaultEveryMs: ci ? 8_000 : 20_000,
    workerKillEveryMs: ci ? 30_000 : 180_000,
    serverKillsAt: ci ? [0.35] : [0.3, 0.75],
    postgresKillsAt: [ci ? 0.65 : 0.5],
    deployAt: values['no-deploy'] || values.break ? undefined : ci ? 0.45 : 0.4,
    deployFrom: values['deploy-from'],
    breakBuild: values.break,
    lateCommitMs: ci ? 6_000 : 20_000,
    lateCreateWindowMs: ci ? 20_000 : 60_000,
    drainMs: Math.max(90_000, 4 * daySeconds * 1000),
    ledgerPath: path.resolve(values.ledger ?? path.join(out, 'ledger.json')),
    resultPath: path.resolve(values.result ?? path.join(out, 'result.json')),
    stackLogPath: path.join(out, 'stack.log'),
    keepData: values['keep-data'] ?? false,
    ci,
  };
}
