import type { protos } from '@google-cloud/aiplatform';
import type { JobLabel } from '../../contracts';
import { cancelDuplicates, findEarlierJob } from '../vertex-duplicates';
import type { VertexClientFactory } from '../../config/vertex';
import { createAwaitActivity } from '../training/await-job';
import { bareState } from '../training/vertex-job';
import { grpcCode, vertexFailure } from '../training/vertex-errors';
import type { BatchJobRef, BatchProgress, SegmentPlan } from './types';

// A segment's BatchPredictionJob. Vertex makes its ids, so a label unique to the child run finds
// the job an earlier attempt made (a lost create answer, a worker killed mid-submit): one job.

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED', 'PARTIALLY_SUCCEEDED']);
const consoleUrl = (region: string, project: string, id: string) =>
  `https://console.cloud.google.com/vertex-ai/locations/${region}/batch-predictions/${id}?project=${project}`;
const ref = (
  plan: Pick<SegmentPlan, 'region' | 'project'>,
  name: string,
  state: unknown,
  findBy: JobLabel,
): BatchJobRef => {
  const id = name.split('/').pop()!;
  return { name, id, consoleUrl: consoleUrl(plan.region, plan.project, id), state: bareState(state), findBy };
};

const iso = (t: protos.google.protobuf.ITimestamp | null | undefined) =>
  t?.seconds ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : undefined;

export function createBatchJobActivities(deps: { vertex: VertexClientFactory }) {
  const read = async ({ job, region }: { job: BatchJobRef; region: string }): Promise<BatchProgress> => {
    const [j] = await deps
      .vertex(region)
      .jobs.getBatchPredictionJob({ name: job.name })
      .catch((e: unknown) => {
        throw vertexFailure(e, `reading ${job.name}`);
      });
    const state = bareState(j.state);
    const stats = j.completionStats;
    return {
      job: { ...job, state },
      state,
      terminal: TERMINAL.has(state),
      error: j.error?.code ? { code: j.error.code, message: j.error.message ?? '' } : undefined,
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
      startTime: iso(j.startTime),
      endTime: iso(j.endTime),
    };
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
      const existing = await findEarlierJob(async () => {
        const [found] = await jobs
          .listBatchPredictionJobs({ parent, filter: `labels.${findBy.key}="${findBy.value}"` })
          .catch((e: unknown) => {
            throw vertexFailure(e, 'looking for an earlier BatchPredictionJob of this segment run');
          });
        return found;
      });
      if (existing) return ref(plan, existing.name!, existing.state, findBy);
      const j = plan.job;
      const bq = (uri: string) => uri.startsWith('bq://');
      try {
        const [created] = await jobs.createBatchPredictionJob({
          parent,
          batchPredictionJob: {
            displayName: j.displayName,
            model,
            labels: { ...j.labels, 'ct-run': label },
            serviceAccount: plan.serviceAccount,
            inputConfig: {
              instancesFormat: j.input.format,
              ...(bq(j.input.uri)
                ? { bigquerySource: { inputUri: j.input.uri } }
                : { gcsSource: { uris: [j.input.uri] } }),
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
          },
        });
        return ref(plan, created.name!, created.state, findBy);
      } catch (err) {
        throw vertexFailure(err, `creating the BatchPredictionJob of ${plan.segment}`);
      }
    },

    async cancelBatchPrediction({ job, region }: { job: BatchJobRef; region: string }): Promise<void> {
      try {
        await deps.vertex(region).jobs.cancelBatchPredictionJob({ name: job.name });
      } catch (err) {
        if (grpcCode(err) === 9 || grpcCode(err) === 5) return; // already ended, or gone
        throw vertexFailure(err, `cancelling ${job.name}`);
      }
    },

    awaitBatchPrediction: createAwaitActivity<BatchJobRef, BatchProgress>(read, ({ job, region }) =>
      cancelDuplicates(job, {
        list: async (parent, filter) => (await deps.vertex(region).jobs.listBatchPredictionJobs({ parent, filter }))[0],
        cancel: (name) => deps.vertex(region).jobs.cancelBatchPredictionJob({ name }),
      }),
    ),
  };
}
