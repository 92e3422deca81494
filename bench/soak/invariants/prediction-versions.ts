import type { OwnedJob } from '../ownership';
import type { World } from '../world';
import { verdict, type InvariantResult } from './result';

// Each prediction run used one model version for all its segments (workflows/prediction-run.ts
// pins it): the BatchPredictionJobs of one run (its continue-as-new generations together), each
// found through its segment's run and that run's parent, resolved to one version per model. A
// pipeline with a model per segment has one model per job: nothing to split.

const modelOf = (model: string) => model.replace(/@[^/@]+$/, '');

export function onePredictionVersion(world: World, jobs: OwnedJob[]): InvariantResult {
  const byRun = new Map(world.executions.map((x) => [x.runId, x]));
  const runs = new Map<string, Map<string, Set<string>>>();
  const segmentsOf = new Map<string, string[]>();
  for (const { job, owner } of jobs) {
    if (job.kind !== 'batchPredictionJob' || !owner?.execution.parent || !job.model) continue;
    const parent = byRun.get(owner.execution.parent.runId);
    if (parent?.type !== 'predictionRun') continue;
    const chain = world.digests.get(parent.runId)?.firstRunId ?? parent.runId;
    const id = `${parent.workflowId}/${chain}`;
    const version = job.modelVersionId ?? /@([^/@]+)$/.exec(job.model)?.[1] ?? 'default';
    const models = runs.get(id) ?? new Map<string, Set<string>>();
    models.set(modelOf(job.model), (models.get(modelOf(job.model)) ?? new Set()).add(version));
    runs.set(id, models);
    segmentsOf.set(id, [...(segmentsOf.get(id) ?? []), `${owner.execution.workflowId.split(':').pop()}→${version}`]);
  }
  const offenders = new Map<string, string>();
  for (const [id, models] of runs)
    for (const [model, versions] of models)
      if (versions.size > 1)
        offenders.set(
          id,
          `predicted with ${versions.size} versions of ${model} (${[...versions].sort().join(', ')}): ${segmentsOf.get(id)!.sort().join(', ')}`,
        );
  return verdict(
    'one model version per prediction run',
    'each prediction run used one model version for all its segments',
    runs.size,
    offenders,
  );
}
