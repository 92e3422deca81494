import { partitionAt } from '../../contracts';

// The soak's project and its season, pure: the pipeline config a platform team would write for it
// (the README's kind of project, sized by the options) and, day by day, what the outside world does
// to it — Airflow's data-ready (on time, late, twice), the operators' approvals, predictions and
// cancels. The driver (driver.ts) plays the plan against the running topology.

export interface SeasonSize {
  /** Simulated days, one every `daySeconds` of wall time. */
  days: number;
  daySeconds: number;
  countries: number;
  sns: number;
  /** 1: the per-segment engagement model; 2: also the churn model (one model, hourly partitions, predicted per segment). */
  models: number;
  /** The churn model's hourly partitions per simulated day, from local midnight. */
  hoursPerDay: number;
  /** The first simulated day (YYYY-MM-DD). */
  startDate: string;
  /** Where the hourly partitions and the schedules' partitions are counted (its daylight-saving change matters). */
  timezone: string;
  /** How often a Vertex job of the season polls-and-hands-over (the watch's chunk), in seconds. */
  chunkSeconds: number;
}

export const COUNTRIES = ['JP', 'US', 'BR', 'DE', 'IN', 'FR', 'GB', 'MX', 'ID', 'KR'];
export const SNS = ['instagram', 'youtube', 'tiktok', 'x', 'twitch'];
export const PROJECTS = { staging: 'ct-soak-staging', production: 'ct-soak-production' } as const;

/** A seeded generator (mulberry32): the same seed plays the same season. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const environment = (project: string) => ({
  project,
  region: 'us-central1',
  serviceAccount: `ct-trainer@${project}.iam.gserviceaccount.com`,
  pipelineRoot: `gs://${project}/root`,
  labels: { team: 'ml-platform' },
});

export const segmentMatrix = (s: Pick<SeasonSize, 'countries' | 'sns'>) => ({
  countries: COUNTRIES.slice(0, s.countries),
  sns: SNS.slice(0, s.sns),
});

/** The soak's pipeline config (what `ct schedules sync` and the workers read). */
export function soakConfig(s: SeasonSize) {
  const day = s.daySeconds;
  const matrix = segmentMatrix(s);
  const common = {
    // A dataset later than two days is given up on: the run ends skipped, and its late data-ready finds it finished.
    retry: { maxAttempts: 2 },
    polling: { interval: '1s', chunk: `${s.chunkSeconds}s` },
  };
  const engagement = {
    description: 'Engagement per country and SNS (the soak).',
    environments: { staging: environment(PROJECTS.staging), production: environment(PROJECTS.production) },
    data: {
      partition: 'daily',
      datasets: ['{sns}_posts', 'user_profiles'],
      timeout: `${2 * day}s`,
      onTimeout: 'skip',
    },
    training: {
      kind: 'pipelineJob',
      pipelineSpecUri: 'gs://ct-soak-{environment}/specs/training-pipeline.yaml',
      parameterValues: { partition: '{partition}', country: '{country}', sns: '{sns}' },
    },
    ...common,
    segments: matrix,
    fanOut: { maxConcurrentRuns: 100 },
    model: {
      thresholds: [{ metric: 'auc', op: '>=', value: 0.8 }],
      // A registration whose worker was killed is retried after uploadTimeout: seconds, not the default 10 minutes.
      registry: {
        modelId: '{pipeline}-{segment}',
        displayName: 'Engagement {country} {sns}',
        servingImage: 'img',
        uploadTimeout: '30s',
      },
      // Production waits for a person, a day and a half at most; silence rejects.
      promotion: {
        mode: 'approval',
        timeout: `${Math.round(1.5 * day)}s`,
        onTimeout: 'reject',
        environments: ['production'],
      },
      modelReady: {
        manifest: 'gs://ct-soak-{environment}/models/{pipeline}/{segment}/manifest.json',
        flag: 'gs://ct-soak-{environment}/models/{pipeline}/{segment}/_READY',
      },
    },
    prediction: {
      partition: 'daily',
      input: { uri: 'bq://{project}.features.engagement_{country}_{sns}', format: 'bigquery' },
      output: { uri: 'gs://ct-soak-{environment}/predictions/{pipeline}/{partition}/{segment}/' },
      maxConcurrentJobs: 8,
      createsPerMinute: 120,
      summary: 'gs://ct-soak-{environment}/predictions/{pipeline}/{partition}/_SUMMARY.json',
    },
    // What Cloud Scheduler did, at the season's cadence: a firing every simulated day.
    schedules: {
      'soak-training': {
        action: 'training',
        interval: `${day}s`,
        environments: ['staging'],
        timezone: s.timezone,
        overlap: 'skip',
        partition: { offset: -1 },
      },
      'soak-prediction': {
        action: 'prediction',
        interval: `${day}s`,
        environments: ['staging'],
        timezone: s.timezone,
        overlap: 'skip',
        partition: { offset: -1 },
      },
    },
  };
  const churn = {
    description: 'Creator churn: one model, trained hourly, predicted per country and SNS (the soak).',
    environments: { staging: environment(PROJECTS.staging) },
    data: { partition: 'hourly', datasets: ['creator_activity'], timeout: `${2 * day}s`, onTimeout: 'skip' },
    training: {
      kind: 'customJob',
      workerPoolSpecs: [{ machineType: 'n1-standard-4', imageUri: 'us-docker.pkg.dev/ct-shared/trainers/churn:1' }],
      baseOutputDirectory: 'gs://ct-soak-{environment}/custom/{pipeline}/{partition}',
    },
    ...common,
    model: {
      thresholds: [{ metric: 'auc', op: '>=', value: 0.8 }],
      registry: { modelId: '{pipeline}', displayName: 'Creator churn', servingImage: 'img', uploadTimeout: '30s' },
      modelReady: { manifest: 'gs://ct-soak-{environment}/models/{pipeline}/manifest.json' },
    },
    prediction: {
      partition: 'daily',
      segments: matrix,
      input: { uri: 'bq://{project}.features.churn_{country}_{sns}', format: 'bigquery' },
      output: { uri: 'gs://ct-soak-{environment}/predictions/{pipeline}/{partition}/{segment}/' },
      maxConcurrentJobs: 8,
      createsPerMinute: 120,
      summary: 'gs://ct-soak-{environment}/predictions/{pipeline}/{partition}/_SUMMARY.json',
    },
    schedules: {
      'soak-training': {
        action: 'training',
        interval: `${day}s`,
        timezone: s.timezone,
        overlap: 'skip',
        partition: { offset: -1 },
      },
    },
  };
  return { version: 1, pipelines: s.models >= 2 ? { engagement, churn } : { engagement } };
}

/** The simulated calendar day `d` days after `start` (YYYY-MM-DD). */
export function dayOf(start: string, d: number): string {
  const [y, m, day] = start.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, day + d)).toISOString().slice(0, 10);
}

/** The instant of local midnight of `date` in `timeZone` (the first instant whose local date is `date`). */
export function localMidnight(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // Local midnight is within ±14 h of UTC midnight: the first whole hour there whose local day is `date`.
  for (let h = -14; h <= 14; h++) {
    const t = new Date(Date.UTC(y, m - 1, d, h));
    if (partitionAt(t, 'daily', 0, timeZone) === date) return t;
  }
  throw new Error(`no local midnight for ${date} in ${timeZone}`);
}

/**
 * The hourly partitions of the first `hours` hours of a local day, hour by absolute hour, as the
 * product names them (partitionAt): across a spring-forward the skipped hour is missing, across a
 * fall-back the repeated hour is named twice.
 */
export function hourlyPartitions(date: string, hours: number, timeZone: string): string[] {
  const t0 = localMidnight(date, timeZone).getTime();
  return Array.from({ length: hours }, (_, h) => partitionAt(new Date(t0 + h * 3_600_000), 'hourly', 0, timeZone));
}

/** The phases operators cancel runs in, in turn (prediction: a prediction run with segments in flight). */
export const CANCEL_PHASES = [
  'waiting-for-data',
  'running',
  'awaiting-approval',
  'prediction',
  'submitting',
  'evaluating',
  'registering',
] as const;
export type CancelPhase = (typeof CANCEL_PHASES)[number];

export interface DataReadySend {
  pipeline: string;
  environment: string;
  dataset: string;
  partition: string;
  /** The simulated day the data belongs to and the (possibly later) day and fraction of it it is sent. */
  day: number;
  sendDay: number;
  at: number;
  late: boolean;
  duplicate: boolean;
}

export type Action =
  | { kind: 'data-ready'; send: DataReadySend }
  /** Airflow's data-ready for the partitions the schedules fire for now (real time): worked out when sent. */
  | { kind: 'schedule-data'; at: number }
  | { kind: 'approvals'; at: number }
  | { kind: 'predict'; at: number; pipeline: string; partition: string }
  | { kind: 'cancel'; at: number; phase: CancelPhase };

export interface Odds {
  /** A dataset's data-ready sent a day late… */
  late: number;
  /** …of those, sent three days late (after the run gave up waiting). */
  veryLate: number;
  /** A data-ready sent again later (Airflow's task cleared and re-run). */
  duplicate: number;
}
export const defaultOdds: Odds = { late: 0.12, veryLate: 0.2, duplicate: 0.1 };

/** Every action of the season, each with the day it happens on and its fraction of that day. */
export function seasonPlan(s: SeasonSize, seed: number, odds: Odds = defaultOdds): { day: number; action: Action }[] {
  const random = rng(seed);
  const out: { day: number; action: Action }[] = [];
  const matrix = segmentMatrix(s);
  const send = (
    day: number,
    pipeline: string,
    environment: string,
    dataset: string,
    partition: string,
    duplicateLabel: boolean,
  ) => {
    const lateBy = random() < odds.late ? (random() < odds.veryLate ? 3 : 1) : 0;
    const at = random() * 0.5;
    const base = { pipeline, environment, dataset, partition, day, late: lateBy > 0 };
    out.push({
      day: day + lateBy,
      action: { kind: 'data-ready', send: { ...base, sendDay: day + lateBy, at, duplicate: duplicateLabel } },
    });
    if (random() < odds.duplicate) {
      const again = at + 0.1 + random() * 0.35;
      out.push({
        day: day + lateBy,
        action: { kind: 'data-ready', send: { ...base, sendDay: day + lateBy, at: again, duplicate: true } },
      });
    }
  };
  for (let d = 0; d < s.days; d++) {
    const date = dayOf(s.startDate, d);
    for (const env of ['staging', 'production'])
      for (const dataset of [...matrix.sns.map((x) => `${x}_posts`), 'user_profiles'])
        send(d, 'engagement', env, dataset, date, false);
    if (s.models >= 2) {
      const seen = new Set<string>();
      for (const hour of hourlyPartitions(date, s.hoursPerDay, s.timezone)) {
        // Across a fall-back the repeated local hour is the same partition: its second data-ready is a duplicate.
        send(d, 'churn', 'staging', 'creator_activity', hour, seen.has(hour));
        seen.add(hour);
      }
    }
    out.push({ day: d, action: { kind: 'schedule-data', at: 0.05 } });
    for (const at of [0.45, 0.95]) out.push({ day: d, action: { kind: 'approvals', at } });
    if (d >= 1) {
      const yesterday = dayOf(s.startDate, d - 1);
      out.push({ day: d, action: { kind: 'predict', at: 0.6, pipeline: 'engagement', partition: yesterday } });
      if (s.models >= 2)
        out.push({ day: d, action: { kind: 'predict', at: 0.65, pipeline: 'churn', partition: yesterday } });
    }
    [0.25, 0.7].forEach((at, i) => {
      const phase = CANCEL_PHASES[(2 * d + i) % CANCEL_PHASES.length]!;
      // Runs wait for data early in the day, between a partition's first and last dataset.
      out.push({ day: d, action: { kind: 'cancel', at: phase === 'waiting-for-data' ? 0.1 : at, phase } });
    });
  }
  const atOf = (a: Action) => (a.kind === 'data-ready' ? a.send.at : a.at);
  return out.sort((a, b) => a.day - b.day || atOf(a.action) - atOf(b.action));
}

export const actionAt = (a: Action) => (a.kind === 'data-ready' ? a.send.at : a.at);
