import { createHash } from 'node:crypto';
import type { protos } from '@google-cloud/aiplatform';
import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/common';
import { toValue as valueOf } from '../../infra/vertex/aiplatform';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import {
  bareState,
  PIPELINE_SPEC_CHANGED,
  trainingJobConsoleUrl,
  type JobLabel,
  type TrainingJobRef,
} from '../../contracts';
import { LATE_CREATE_WINDOW_MS } from '../../config/env';
import { cancelDuplicates, findEarlierJob, keepEarliest, noteFailedCreate, twinsWindow } from '../vertex/duplicates';
import { cancelVertexJob, grpcCode, vertexFailure } from '../vertex/errors';
import { isoTime, progressOf, type VertexJobResource } from '../vertex/progress';
import { readSpec, withCaching } from './kfp-spec';
import type { JobProgress, RunPlan, SubmitRequest } from '../../contracts';

type IValue = protos.google.protobuf.IValue;
const toValue = (v: unknown) => valueOf(v as object) as IValue;

type VertexJob = VertexJobResource & { name?: string | null };

const parentOf = (plan: RunPlan) => `projects/${plan.project}/locations/${plan.region}`;

/** A label value unique to this run and attempt (CustomJob ids are server-made; labels find them). */
export const attemptLabel = (jobId: string) => createHash('sha256').update(jobId).digest('hex').slice(0, 32);

function ref(plan: RunPlan, attempt: number, job: VertexJob, findBy?: JobLabel): TrainingJobRef {
  const name = job.name!;
  const id = name.split('/').pop()!;
  const createTime = isoTime(job.createTime);
  return {
    kind: plan.training.kind,
    name,
    id,
    attempt,
    consoleUrl: trainingJobConsoleUrl(plan.training.kind, plan.region, plan.project, id),
    state: bareState(job.state),
    ...(createTime ? { createTime } : {}),
    ...(findBy ? { findBy } : {}),
  };
}

export function createVertexJobActivities(deps: {
  storage: Storage;
  vertex: VertexClientFactory;
  /** CT_VERTEX_LATE_CREATE_WINDOW_MS: how long a retried submit's job is swept for late twins. */
  lateCreateWindowMs?: number;
}) {
  const lateCreateWindowMs = deps.lateCreateWindowMs ?? LATE_CREATE_WINDOW_MS;
  return {
    /**
     * Creates the attempt's job exactly once: a retried activity, a lost create response or a
     * worker killed mid-submit finds the job it already made instead of making a second.
     */
    async submitTrainingJob({ plan, attempt, jobId }: SubmitRequest): Promise<TrainingJobRef> {
      const clients = deps.vertex(plan.region);
      const labels = { ...plan.labels, 'ct-attempt': attemptLabel(jobId) };
      const t = plan.training;
      return t.kind === 'pipelineJob'
        ? submitPipelineJob(deps.storage, clients.pipelines, { plan, attempt, jobId }, t, labels)
        : submitCustomJob(clients.jobs, { plan, attempt }, t, labels, lateCreateWindowMs);
    },

    async cancelTrainingJob({ job, region }: { job: TrainingJobRef; region: string }): Promise<void> {
      const { pipelines, jobs } = deps.vertex(region);
      await cancelVertexJob(job.name, (name) =>
        job.kind === 'pipelineJob' ? pipelines.cancelPipelineJob({ name }) : jobs.cancelCustomJob({ name }),
      );
    },

    /** Cancels other live jobs of the attempt that a late create made (see activities/vertex/duplicates.ts). */
    sweepDuplicateTrainingJobs: async ({ job, region }: { job: TrainingJobRef; region: string }): Promise<string[]> => {
      const { jobs } = deps.vertex(region);
      return cancelDuplicates(job, {
        list: async (parent, filter) => (await jobs.listCustomJobs({ parent, filter }))[0],
        cancel: (name) => jobs.cancelCustomJob({ name }),
      });
    },

    /** One read of the job's state. */
    readTrainingJob: async ({ job, region }: { job: TrainingJobRef; region: string }): Promise<JobProgress> => {
      const { pipelines, jobs } = deps.vertex(region);
      const [j] = await (
        job.kind === 'pipelineJob'
          ? pipelines.getPipelineJob({ name: job.name })
          : jobs.getCustomJob({ name: job.name })
      ).catch((e: unknown) => {
        throw vertexFailure(e, `reading ${job.name}`);
      });
      return progressOf(job, j);
    },
  };
}

type Clients = ReturnType<VertexClientFactory>;
type Training<K extends RunPlan['training']['kind']> = Extract<RunPlan['training'], { kind: K }>;
type AttemptLabels = Record<string, string> & { 'ct-attempt': string };

/** A PipelineJob under the attempt's own id: ALREADY_EXISTS means an earlier try made it. */
async function submitPipelineJob(
  storage: Storage,
  pipelines: Clients['pipelines'],
  { plan, attempt, jobId }: SubmitRequest,
  t: Training<'pipelineJob'>,
  labels: AttemptLabels,
): Promise<TrainingJobRef> {
  const { spec, sha256 } = await readSpec(storage, t.pipelineSpecUri);
  if (sha256 !== t.specSha256) {
    throw ApplicationFailure.nonRetryable(
      `${t.pipelineSpecUri} changed since the run was planned; start a new run to train on the new spec`,
      PIPELINE_SPEC_CHANGED,
    );
  }
  const pipelineSpec = toValue(t.enableCaching === undefined ? spec : withCaching(spec, t.enableCaching)).structValue;
  try {
    const [job] = await pipelines.createPipelineJob({
      parent: parentOf(plan),
      pipelineJobId: jobId,
      pipelineJob: {
        displayName: t.displayName,
        labels,
        pipelineSpec,
        serviceAccount: plan.serviceAccount,
        runtimeConfig: {
          gcsOutputDirectory: t.pipelineRoot,
          parameterValues: Object.fromEntries(Object.entries(t.parameterValues).map(([k, v]) => [k, toValue(v)])),
        },
      },
    });
    return ref(plan, attempt, job);
  } catch (err) {
    // The id is ours and deterministic: ALREADY_EXISTS means an earlier try of this attempt made it.
    if (grpcCode(err) !== 6) throw vertexFailure(err, `creating PipelineJob ${jobId}`);
    const [job] = await pipelines
      .getPipelineJob({ name: `${parentOf(plan)}/pipelineJobs/${jobId}` })
      .catch((e: unknown) => {
        throw vertexFailure(e, `reading back PipelineJob ${jobId}`);
      });
    return ref(plan, attempt, job);
  }
}

/** A CustomJob, unless one with the attempt's label exists already (CustomJob ids are server-made). */
async function submitCustomJob(
  jobs: Clients['jobs'],
  { plan, attempt }: Pick<SubmitRequest, 'plan' | 'attempt'>,
  t: Training<'customJob'>,
  labels: AttemptLabels,
  lateCreateWindowMs: number,
): Promise<TrainingJobRef> {
  const findBy = { key: 'ct-attempt', value: labels['ct-attempt'] };
  const twins = twinsWindow(lateCreateWindowMs);
  const lookup = async () => {
    const [found] = await jobs
      .listCustomJobs({ parent: parentOf(plan), filter: `labels.${findBy.key}="${findBy.value}"` })
      .catch((e: unknown) => {
        throw vertexFailure(e, 'looking for an earlier CustomJob of this attempt');
      });
    return found;
  };
  const existing = await findEarlierJob(lookup);
  if (existing) return { ...ref(plan, attempt, existing, findBy), ...twins };
  let created: VertexJob;
  try {
    [created] = await jobs.createCustomJob({
      parent: parentOf(plan),
      customJob: {
        displayName: t.displayName,
        labels,
        jobSpec: {
          serviceAccount: plan.serviceAccount,
          baseOutputDirectory: { outputUriPrefix: t.baseOutputDirectory },
          workerPoolSpecs: t.workerPoolSpecs.map((w) => ({
            machineSpec: {
              machineType: w.machineType,
              ...(w.acceleratorType
                ? { acceleratorType: w.acceleratorType as never, acceleratorCount: w.acceleratorCount }
                : {}),
            },
            replicaCount: w.replicaCount,
            containerSpec: { imageUri: w.imageUri, command: w.command, args: w.args },
          })),
        },
      },
    });
  } catch (err) {
    noteFailedCreate(err);
    throw vertexFailure(err, `creating CustomJob ${t.displayName}`);
  }
  const job = twins.twinsUntil
    ? await keepEarliest(created, lookup, (name) => jobs.cancelCustomJob({ name }))
    : created;
  return { ...ref(plan, attempt, job, findBy), ...twins };
}
