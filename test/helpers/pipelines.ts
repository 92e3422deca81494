import type { z } from 'zod';
import type { Environment, Pipeline } from '../../config/pipeline-config';
import { projectConfig, type IsolatedProject } from './isolation';
import { testStack } from '../setup/test-stack';
import { uniqueProject } from './vertex';

// Test pipelines written where the test is: a suite states the pipeline facts it depends on (its
// data, training, model policy, timeouts) with these pieces, and gets them as a config in a Vertex
// project of its own. What a piece sets, its name says; anything else is the schema's default.

/**
 * A pipeline as the config file states it. Its environments are the project's (`staging` unless
 * the test names another); a pipeline that needs more, or one on a task queue of its own, names
 * them here with only what differs (`onQueue`).
 */
export type PipelineSpec = Omit<z.input<typeof Pipeline>, 'environments'> & {
  environments?: Record<string, Partial<z.input<typeof Environment>>>;
};

/** An environment whose runs go to `taskQueue` (a worker or schedule of the test's own polls it). */
export const onQueue = (taskQueue: string) => ({
  temporal: { namespace: testStack().CT_TEST_NAMESPACE, taskQueue },
});

/** Waits for `datasets` of a daily partition, for `timeout` (an hour unless the test says). */
export const dailyData = (datasets: string[], timeout = '1h', onTimeout?: 'fail' | 'skip') => ({
  partition: 'daily' as const,
  datasets,
  timeout,
  ...(onTimeout ? { onTimeout } : {}),
});

/** Judges a candidate by auc ≥ 0.8 (the emulator's jobs report 0.9 unless a rule says otherwise). */
export const aucGate = [{ metric: 'auc', op: '>=' as const, value: 0.8 }];

/** Trains the compiled KFP fixture (test/fixtures/kfp, seeded by the global setup) on the partition. */
export const kfpTraining = {
  kind: 'pipelineJob' as const,
  pipelineSpecUri: 'gs://ct-test-bucket/specs/training-pipeline.yaml',
  parameterValues: { partition: '{partition}' },
};

/** A CustomJob that writes under gs://ct-test-bucket/custom/{pipeline}/{partition}. */
export const customJobTraining = {
  kind: 'customJob' as const,
  workerPoolSpecs: [{ machineType: 'n1-standard-4', imageUri: 'img' }],
  baseOutputDirectory: 'gs://ct-test-bucket/custom/{pipeline}/{partition}',
};

/** Registers each candidate as a version of the model `{pipeline}-{environment}`. */
export const modelRegistry = {
  modelId: '{pipeline}-{environment}',
  displayName: '{pipeline} ({environment})',
  servingImage: 'us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest',
};

/** Gated on auc, registered, promoted only when a person approves within the hour (silence rejects). */
export const approvalModel = {
  thresholds: aucGate,
  registry: modelRegistry,
  promotion: { mode: 'approval' as const, timeout: '1h', onTimeout: 'reject' as const },
};

/**
 * Batch prediction per country × SNS segment (`segments`), reading and writing where
 * test/helpers/prediction-steps.ts seeds inputs and reads the summary; two jobs at once, 600
 * creates a minute, unless `over` says otherwise.
 */
export const batchPrediction = (
  segments: { countries: string[]; sns: string[] },
  over: Partial<NonNullable<PipelineSpec['prediction']>> = {},
): NonNullable<PipelineSpec['prediction']> => ({
  segments,
  input: { uri: 'gs://ct-test-bucket/predict-in/{pipeline}/{partition}/{country}-{sns}/*.jsonl' },
  output: { uri: 'gs://ct-test-bucket/predict-out/{pipeline}/{partition}/{country}-{sns}/' },
  machine: { machineType: 'n1-standard-2' },
  maxConcurrentJobs: 2,
  createsPerMinute: 600,
  summary: 'gs://ct-test-bucket/predict-out/{pipeline}/{partition}/_SUMMARY.json',
  ...over,
});

/** The runs notice a job's end within 100 ms, and a watch activity hands over every 3 s. */
const fastPolling = { interval: '100ms', chunk: '3s' };

/**
 * `pipelines`, each in one environment `environment` in a Vertex project of the test's own (its
 * emulator rules and faults are removed by `cleanup`), polled fast unless a pipeline says otherwise.
 */
export function projectWith(pipelines: Record<string, PipelineSpec>, environment = 'staging'): IsolatedProject {
  const project = uniqueProject();
  const env = {
    project,
    region: 'us-central1',
    serviceAccount: `ct-trainer@${project}.iam.gserviceaccount.com`,
    pipelineRoot: 'gs://ct-test-bucket/root/{environment}',
    labels: { team: 'ml-platform' },
    // Tests pass the task queue of their own worker; none polls this one.
    temporal: { namespace: testStack().CT_TEST_NAMESPACE, taskQueue: project },
  };
  const doc = {
    version: 1,
    pipelines: Object.fromEntries(
      Object.entries(pipelines).map(([name, { environments, ...p }]) => [
        name,
        {
          polling: fastPolling,
          ...p,
          environments: Object.fromEntries(
            Object.entries(environments ?? { [environment]: {} }).map(([e, over]) => [e, { ...env, ...over }]),
          ),
        },
      ]),
    ),
  };
  return projectConfig(project, JSON.stringify(doc, null, 2));
}

/** Waits for `datasets` of a monthly partition, for an hour. */
export const monthlyData = (datasets: string[]) => ({ partition: 'monthly' as const, datasets, timeout: '1h' });

/** JP and US × instagram and youtube, without US youtube: jp-youtube alone waits for youtube_posts. */
export const snsSegments = {
  countries: ['JP', 'US'],
  sns: ['instagram', 'youtube'],
  exclude: [{ country: 'US', sns: 'youtube' }],
};

/** Waits for the segment's SNS posts (`{sns}_posts`), then user_profiles, of a daily partition. */
export const snsData = dailyData(['{sns}_posts', 'user_profiles']);

/** kfpTraining with the segment's country and SNS as parameters too. */
export const kfpTrainingPerSegment = {
  ...kfpTraining,
  parameterValues: { ...kfpTraining.parameterValues, country: '{country}', sns: '{sns}' },
};

/**
 * Model-ready's manifest at gs://ct-test-bucket/models/{project}/{pipeline}/{environment}/manifest.json,
 * and with `flag` the `_READY` flag beside it.
 */
export const modelReadyFiles = (flag = false) => ({
  manifest: 'gs://ct-test-bucket/models/{project}/{pipeline}/{environment}/manifest.json',
  ...(flag ? { flag: 'gs://ct-test-bucket/models/{project}/{pipeline}/{environment}/_READY' } : {}),
});

/**
 * Nightly training at 03:00 in Tokyo on yesterday's partition (an hour to catch up), and a weekly
 * retrain on Sundays 05:30 UTC, created paused.
 */
export const nightlySchedules: NonNullable<PipelineSpec['schedules']> = {
  daily: {
    action: 'training',
    cron: '0 3 * * *',
    timezone: 'Asia/Tokyo',
    catchupWindow: '1h',
    partition: { offset: -1 },
  },
  'weekly-retrain': {
    action: 'training',
    calendar: { hour: [5], minute: [30], dayOfWeek: ['SUNDAY'] },
    timezone: 'UTC',
    paused: { note: 'waiting for the new feature set' },
  },
};

/**
 * Trains the KFP fixture on a daily partition of predicted_data, registers each candidate as
 * `{pipeline}-{environment}` (promoted at once), and predicts `segments` with it (`batchPrediction`).
 */
export const trainsAndPredicts = (
  segments: { countries: string[]; sns: string[] },
  over: Partial<NonNullable<PipelineSpec['prediction']>> = {},
): PipelineSpec => ({
  data: dailyData(['predicted_data']),
  training: kfpTraining,
  model: { registry: modelRegistry },
  prediction: batchPrediction(segments, over),
});

/**
 * Waits for `datasets` of a daily partition for an hour, those in `flags` ready when their flag
 * object exists (data.flags, docs/triggers.md): a `gs://bucket/…{partition}…` template, or one
 * with a window of its own.
 */
export const flaggedData = (
  datasets: string[],
  flags: Record<string, string | { flag: string; window?: { late?: string; early?: string; timezone?: string } }>,
) => ({
  ...dailyData(datasets),
  flags: Object.fromEntries(Object.entries(flags).map(([d, f]) => [d, typeof f === 'string' ? { flag: f } : f])),
});
