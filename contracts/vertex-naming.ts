// How this coordinator names its Vertex jobs, where a training job's outputs land, and the Cloud
// console pages of jobs and model versions. The activities resolve these into plans and job refs;
// workflows only read them (and call these for plans recorded before they did: workflows/support/legacy-plans.ts).
import type { CustomJobPlan, PipelineJobPlan } from './training-plan';
import type { TrainingJobOutputs } from './training-run';

/**
 * The PipelineJob id (and CustomJob label) of an attempt: deterministic for one workflow run, so a
 * retried or restarted submit finds its job; different for a re-run of the partition (new run id).
 */
export function trainingJobId(
  run: { pipeline: string; segment?: string; partition: string },
  runId: string,
  attempt: number,
): string {
  const slug = [run.pipeline, run.segment, run.partition]
    .filter(Boolean)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
  return `${slug.slice(0, 100)}-${runId.replace(/-/g, '').slice(-12)}-${attempt}`;
}

/** Where a SUCCEEDED training job wrote: a PipelineJob under its root by job id, a CustomJob in its base directory. */
export function trainingOutputs(training: PipelineJobPlan | CustomJobPlan, jobId: string): TrainingJobOutputs {
  const dir =
    training.kind === 'pipelineJob'
      ? `${training.pipelineRoot.replace(/\/+$/, '')}/${jobId}`
      : training.baseOutputDirectory.replace(/\/+$/, '');
  return { outputDirectory: dir, metricsUri: `${dir}/metrics.json`, modelDirectory: `${dir}/model/` };
}

const vertexConsole = 'https://console.cloud.google.com/vertex-ai';

export const trainingJobConsoleUrl = (
  kind: 'pipelineJob' | 'customJob',
  region: string,
  project: string,
  id: string,
) =>
  kind === 'pipelineJob'
    ? `${vertexConsole}/locations/${region}/pipelines/runs/${id}?project=${project}`
    : `${vertexConsole}/locations/${region}/training/${id}/cpu?project=${project}`;

export const batchJobConsoleUrl = (region: string, project: string, id: string) =>
  `${vertexConsole}/locations/${region}/batch-predictions/${id}?project=${project}`;

export const modelVersionConsoleUrl = (region: string, project: string, modelId: string, versionId: string) =>
  `${vertexConsole}/models/locations/${region}/models/${modelId}/versions/${versionId}?project=${project}`;

/** An endpoint's page; `name` is its resource name (Vertex answers with the project's number, the console takes its id). */
export const endpointConsoleUrl = (region: string, project: string, name: string) =>
  `${vertexConsole}/locations/${region}/endpoints/${name.split('/').pop()}?project=${project}`;
