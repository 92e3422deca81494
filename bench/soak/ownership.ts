import { attemptLabel } from '../../activities/training/vertex-job';
import { trainingJobId } from '../../contracts/vertex-naming';
import type { JobView } from '../../emulators/vertex-ai/control-schema';
import type { Execution, World } from './world';

// Which run owns which Vertex job, from what the job carries and what the run's history planned:
// a training attempt's PipelineJob is named by its job id and its CustomJob labelled ct-attempt
// (contracts/vertex-naming.ts, activities/training/vertex-job.ts); a prediction segment's
// BatchPredictionJob is labelled ct-run with the segment's run id (workflows/prediction-segment.ts).

export interface Owner {
  execution: Execution;
  /** The training attempt, for a training job. */
  attempt?: number;
}

export interface OwnedJob {
  job: JobView;
  /** One per attempt (training) or segment run (prediction): two jobs with one key are one too many. */
  attemptKey: string;
  owner?: Owner;
}

export const jobId = (name: string) => name.split('/').pop() ?? name;

export function attemptKeyOf(job: Pick<JobView, 'kind' | 'name' | 'labels'>): string {
  if (job.kind === 'pipelineJob') return `pipelineJob:${jobId(job.name)}`;
  if (job.kind === 'customJob' && job.labels['ct-attempt']) return `ct-attempt:${job.labels['ct-attempt']}`;
  if (job.kind === 'batchPredictionJob' && job.labels['ct-run']) return `ct-run:${job.labels['ct-run']}`;
  return `${job.kind}:${jobId(job.name)}`;
}

/** Attempt key → owner, for every training attempt a run planned and every prediction segment run. */
export function ownersByAttempt(world: World): Map<string, Owner> {
  const owners = new Map<string, Owner>();
  const byRun = new Map(world.executions.map((x) => [x.runId, x]));
  for (const d of world.digests.values()) {
    const execution = byRun.get(d.runId);
    if (!execution) continue;
    if (d.type === 'predictionSegment') owners.set(`ct-run:${d.runId}`, { execution });
    const p = d.plan;
    if (d.type !== 'trainingRun' || !p) continue;
    // Plans recorded before they held job ids: the ids are derived the same way (workflows/support/legacy-plans.ts).
    const ids =
      p.attemptJobIds ??
      Array.from({ length: p.maxAttempts }, (_, i) =>
        trainingJobId({ pipeline: p.pipeline, segment: p.segment, partition: p.partition }, d.firstRunId, i + 1),
      );
    ids.forEach((id, i) => {
      const owner = { execution, attempt: i + 1 };
      owners.set(`pipelineJob:${id}`, owner);
      owners.set(`ct-attempt:${attemptLabel(id)}`, owner);
    });
  }
  return owners;
}

export function ownJobs(world: World): OwnedJob[] {
  const owners = ownersByAttempt(world);
  return world.jobs.map((job) => {
    const attemptKey = attemptKeyOf(job);
    return { job, attemptKey, owner: owners.get(attemptKey) };
  });
}
