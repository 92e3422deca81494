import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import {
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import {
  dataReadyUpdate,
  isPartition,
  partitionExamples,
  trainingRunId,
  TrainingRunInput,
  trainingRunWorkflowType,
  type DataReadyReport,
  type RouteDataReadyInput,
  type TrainingRunWorkflow,
} from '../contracts';
import type { PipelineConfig } from '../config/pipeline-config';
import { checkRunIdentity, datasetsOf, environmentsOf, InvalidRunError, segmentsOf } from '../config/runs';

// Which runs a data-ready touches and how each is started: one module for the `ct` library
// (client/training.ts) and the routing activity (activities/training/route.ts), which both deliver it.

export interface RunPlacement {
  /** Overrides the environment's task queue (tests, a canary worker, the routing workflow's own queue). */
  taskQueue?: string;
  /** Start a new run for a partition whose run already finished (otherwise refused). */
  rerun?: boolean;
}

/** Where and how the one run of a partition starts (or is attached to). Throws InvalidRunError. */
export function trainingRunStartOptions(config: PipelineConfig, input: TrainingRunInput, opts: RunPlacement = {}) {
  const { env } = checkRunIdentity(config, input);
  return {
    workflowId: trainingRunId(input),
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [input] as [TrainingRunInput],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: opts.rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
    staticSummary: `Training ${input.pipeline} · ${input.environment} · ${input.segment ?? 'all segments'} · ${input.partition}`,
  } satisfies WorkflowStartOptions<TrainingRunWorkflow>;
}

/** The runs (pipeline × segment) of the environment that wait for this dataset in this partition; InvalidRunError, listing what is known, if none. */
export function dataReadyTargets(config: PipelineConfig, req: RouteDataReadyInput): TrainingRunInput[] {
  const environments = environmentsOf(config);
  if (!environments.includes(req.environment))
    throw new InvalidRunError(
      `environment "${req.environment}" is not in the config; it has: ${environments.join(', ')}`,
    );
  const runs: TrainingRunInput[] = [];
  const known = new Set<string>();
  /** Pipelines that wait for the dataset, but in partitions of another shape. */
  const otherFormats = new Set<string>();
  for (const [name, pipeline] of Object.entries(config.pipelines)) {
    if (!pipeline.environments[req.environment]) continue;
    const segments = segmentsOf(pipeline);
    for (const segment of segments.length ? segments : [undefined]) {
      const id = { pipeline: name, environment: req.environment, partition: req.partition, segment };
      if (!isPartition(req.partition, pipeline.data.partition)) {
        for (const d of pipeline.data.datasets) known.add(d);
        const vars = { ...id, partition: partitionExamples[pipeline.data.partition] };
        if (datasetsOf(config, vars).includes(req.dataset)) otherFormats.add(`${name}: ${pipeline.data.partition}`);
        continue;
      }
      const datasets = datasetsOf(config, id);
      datasets.forEach((d) => known.add(d));
      if (datasets.includes(req.dataset)) runs.push(TrainingRunInput.parse(id));
    }
  }
  if (!runs.length && otherFormats.size)
    throw new InvalidRunError(
      `partition "${req.partition}" is not in the format of the pipelines that wait for dataset "${req.dataset}" (${[...otherFormats].sort().join(', ')})`,
    );
  if (!runs.length)
    throw new InvalidRunError(
      `no pipeline in environment "${req.environment}" waits for dataset "${req.dataset}" in partition "${req.partition}"; datasets it knows: ${[...known].sort().join(', ') || 'none'}`,
    );
  return runs;
}

/**
 * Tells every run waiting for this dataset and partition that it is ready, starting runs that do
 * not exist yet (update-with-start, USE_EXISTING), and reports what each still waits for. A run
 * whose partition already finished is reported as finished, never started again.
 */
export async function deliverDataReady(
  temporal: Client,
  config: PipelineConfig,
  req: RouteDataReadyInput,
  opts: Pick<RunPlacement, 'taskQueue'> & {
    /** The update's id in every run (a flag's generation): a delivery repeated after a crash is applied once. */
    updateId?: string;
  } = {},
): Promise<DataReadyReport> {
  const targets = dataReadyTargets(config, req);
  const report: DataReadyReport = { dataset: req.dataset, partition: req.partition, reached: [], finished: [] };
  const { environment: _, ...args } = req;
  await Promise.all(
    targets.map(async (input) => {
      const run = { pipeline: input.pipeline, segment: input.segment };
      const options = trainingRunStartOptions(config, input, { taskQueue: opts.taskQueue });
      try {
        // One update id for every attempt: an attempt that landed unanswered is not applied twice.
        const updateId = opts.updateId ?? randomUUID();
        const ack = await untilStoreAnswers(() =>
          temporal.workflow.executeUpdateWithStart(dataReadyUpdate, {
            args: [args],
            updateId,
            startWorkflowOperation: new WithStartWorkflowOperation<TrainingRunWorkflow>(
              trainingRunWorkflowType,
              options,
            ),
          }),
        );
        report.reached.push({ ...ack, ...run });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError)
          report.finished.push({ workflowId: options.workflowId, ...run });
        else throw err;
      }
    }),
  );
  report.reached.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
  return report;
}

/**
 * A data-ready is the one message that says the data is there: a store outage must delay it, not
 * lose it. The gRPC client retries UNAVAILABLE (the server down) for about 25 s; with PostgreSQL
 * down the server itself answers, with NOT_FOUND (never a true answer to an update-with-start that
 * creates a missing run) or a timeout. Those are retried here for up to two minutes.
 */
const DELIVERY_DEADLINE_MS = 120_000;
const TRANSIENT_CODES = new Set([
  grpc.status.NOT_FOUND,
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.ABORTED,
]);

function storeNotAnswering(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const grpcError = isGrpcServiceError(err) ? err : err instanceof Error ? err.cause : undefined;
  return isGrpcServiceError(grpcError) && TRANSIENT_CODES.has(grpcError.code);
}

async function untilStoreAnswers<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + DELIVERY_DEADLINE_MS;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      return await call();
    } catch (err) {
      if (!storeNotAnswering(err) || Date.now() + delayMs > deadline) throw err;
      await sleep(delayMs);
    }
  }
}
