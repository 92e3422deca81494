import type { protos } from '@google-cloud/aiplatform';
import { bareState, batchJobConsoleUrl, type JobLabel } from '../../contracts';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import { createAwaitActivity } from '../vertex/await-job';
import { LATE_CREATE_WINDOW_MS } from '../../config/env';
import { cancelDuplicates, findEarlierJob, keepEarliest, noteFailedCreate, twinsWindow } from '../vertex/duplicates';
import { cancelVertexJob, vertexFailure } from '../vertex/errors';
import { isoTime, progressOf, type VertexJobResource } from '../vertex/progress';
import type { RegionWatches } from '../vertex/region-watch';
import type { BatchJobRef, BatchProgress, SegmentPlan } from '../../contracts';

// A segment's BatchPredictionJob. Vertex makes its ids, so a label unique to the child run finds
// the job an earlier attempt made (a lost create answer, a worker killed mid-submit): one job.

const ref = (
  plan: Pick<SegmentPlan, 'region' | 'project'>,
  job: VertexJobResource & { name?: string | null },
  findBy: JobLabel,
): BatchJobRef => {
  const name = job.name!;
  const id = name.split('/').pop()!;
  const createTime = isoTime(job.createTime);
  return {
    name,
    id,
    consoleUrl: batchJobConsoleUrl(plan.region, plan.project, id),
    state: bareState(job.state),
    ...(createTime ? { createTime } : {}),
    findBy,
  };
};

type BatchJobResource = protos.google.cloud.aiplatform.v1.IBatchPredictionJob;

/** What a segment learns from one look at its job (a Get, or the region's listing). */
export function batchProgress(job: BatchJobRef, j: BatchJobResource): BatchProgress {
  const stats = j.completionStats;
  return {
    ...progressOf(job, j),
    outputUri:
      j.outputInfo?.gcsOutputDirectory ??
      (j.outputInfo?.bigqueryOutputDataset
        ? `${j.outputInfo.bigqueryOutputDataset}.${j.outputInfo.bigqueryOutputTable ?? ''}`
        : undefined),
    counts: stats
      ? {
          successful: Number(stats.successfulCount ?? 0),
          failed: Number(stats.failedCount ?? 0),
          incomplete: Number(stats.incompleteCount ?? 0),
        }
      : undefined,
  };
}

export function createBatchJobActivities(deps: {
  vertex: VertexClientFactory;
  watches?: RegionWatches;
  /** CT_VERTEX_LATE_CREATE_WINDOW_MS: how long a retried submit's job is swept for late twins. */
  lateCreateWindowMs?: number;
}) {
  const read = async ({ job, region }: { job: BatchJobRef; region: string }): Promise<BatchProgress> => {
    const [j] = await deps
      .vertex(region)
      .jobs.getBatchPredictionJob({ name: job.name })
      .catch((e: unknown) => {
        throw vertexFailure(e, `reading ${job.name}`);
      });
    return batchProgress(job, j);
  };

  return {
    /** Runs on the rate-limited create queue of the job's project and region (see workers/worker.ts). */
    async submitBatchPrediction({
      plan,
      model,
      label,
    }: {
      plan: SegmentPlan;
      model: string;
      label: string;
    }): Promise<BatchJobRef> {
      const { jobs } = deps.vertex(plan.region);
      const parent = `projects/${plan.project}/locations/${plan.region}`;
      const findBy = { key: 'ct-run', value: label };
      const twins = twinsWindow(deps.lateCreateWindowMs ?? LATE_CREATE_WINDOW_MS);
      const lookup = async () => {
        const [found] = await jobs
          .listBatchPredictionJobs({ parent, filter: `labels.${findBy.key}="${findBy.value}"` })
          .catch((e: unknown) => {
            throw vertexFailure(e, 'looking for an earlier BatchPredictionJob of this segment run');
          });
        return found;
      };
      const existing = await findEarlierJob(lookup);
      if (existing) return { ...ref(plan, existing, findBy), ...twins };
      let created: BatchJobResource;
      try {
        [created] = await jobs.createBatchPredictionJob({
          parent,
          batchPredictionJob: batchPredictionJobOf(plan, model, label),
        });
      } catch (err) {
        noteFailedCreate(err);
        throw vertexFailure(err, `creating the BatchPredictionJob of ${plan.segment}`);
      }
      const job = twins.twinsUntil
        ? await keepEarliest(created, lookup, (name) => jobs.cancelBatchPredictionJob({ name }))
        : created;
      return { ...ref(plan, job, findBy), ...twins };
    },

    async cancelBatchPrediction({ job, region }: { job: BatchJobRef; region: string }): Promise<void> {
      await cancelVertexJob(job.name, (name) => deps.vertex(region).jobs.cancelBatchPredictionJob({ name }));
    },

    awaitBatchPrediction: createAwaitActivity<BatchJobRef, BatchProgress>(
      read,
      ({ job, region }) =>
        cancelDuplicates(job, {
          list: async (parent, filter) =>
            (await deps.vertex(region).jobs.listBatchPredictionJobs({ parent, filter }))[0],
          cancel: (name) => deps.vertex(region).jobs.cancelBatchPredictionJob({ name }),
        }),
      deps.watches && {
        watches: deps.watches,
        kind: () => 'batchPredictionJob',
        progress: (job, listed) => batchProgress(job, listed as BatchJobResource),
      },
    ),
  };
}

/** The BatchPredictionJob a segment's plan asks for, labelled with its run (`ct-run`). */
function batchPredictionJobOf(plan: SegmentPlan, model: string, label: string) {
  const j = plan.job;
  const bq = (uri: string) => uri.startsWith('bq://');
  return {
    displayName: j.displayName,
    model,
    labels: { ...j.labels, 'ct-run': label },
    serviceAccount: plan.serviceAccount,
    inputConfig: {
      instancesFormat: j.input.format,
      ...(bq(j.input.uri) ? { bigquerySource: { inputUri: j.input.uri } } : { gcsSource: { uris: [j.input.uri] } }),
    },
    outputConfig: {
      predictionsFormat: j.output.format,
      ...(bq(j.output.uri)
        ? { bigqueryDestination: { outputUri: j.output.uri } }
        : { gcsDestination: { outputUriPrefix: j.output.uri } }),
    },
    dedicatedResources: {
      machineSpec: { machineType: j.machine.machineType },
      startingReplicaCount: j.machine.startingReplicaCount,
      maxReplicaCount: j.machine.maxReplicaCount,
    },
  };
}
