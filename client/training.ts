import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { z } from 'zod';
import { checkRunIdentity, datasetsOf, InvalidRunError, segmentsOf } from '../config/runs';
import type { PipelineConfig } from '../config/pipeline-config';
import {
  dataReadyUpdate,
  partitionExamples,
  RouteDataReadyInput,
  isPartition,
  trainingRunId,
  TrainingRunInput,
  trainingRunWorkflowType,
  TrainingFanoutInput,
  trainingFanoutId,
  trainingFanoutWorkflowType,
  type DataReadyReport,
  type TrainingPhase,
} from '../contracts';
import { trainingFanoutPlan } from '../config/runs';
import type { trainingFanout, trainingRun } from '../workflows';

// The library operators, schedules and Airflow use to start training runs and report data-ready.
// Everything is checked against the config here, so bad input is refused to the caller and never
// reaches a workflow.

export class TrainingRequestError extends Error {
  override name = 'TrainingRequestError';
}

function refuse(err: unknown): never {
  if (err instanceof InvalidRunError) throw new TrainingRequestError(err.message);
  throw err;
}

export interface RunOptions {
  /** Overrides the environment's task queue (tests, a canary worker). */
  taskQueue?: string;
  /** Start a new run for a partition whose run already finished (otherwise refused). */
  rerun?: boolean;
}

function startOptions(config: PipelineConfig, input: z.output<typeof TrainingRunInput>, opts: RunOptions) {
  const { env } = checkRunIdentity(config, input);
  return {
    workflowId: trainingRunId(input),
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [input] as [typeof input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: opts.rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
    staticSummary: `Training ${input.pipeline} · ${input.environment} · ${input.segment ?? 'all segments'} · ${input.partition}`,
  } satisfies WorkflowStartOptions<typeof trainingRun>;
}

/** Starts (or attaches to) the one run of this partition. */
export async function startTrainingRun(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingRun>> {
  const parsed = TrainingRunInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid training run:\n${z.prettifyError(parsed.error)}`);
  let options;
  try {
    options = startOptions(config, parsed.data, opts);
  } catch (err) {
    refuse(err);
  }
  try {
    return await client.workflow.start<typeof trainingRun>(trainingRunWorkflowType, options);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new TrainingRequestError(`${options.workflowId} already ran; pass rerun to train this partition again`);
    }
    throw err;
  }
}

export type DataReadyRequest = RouteDataReadyInput;

/** The runs (pipeline × segment) of an environment that wait for this dataset in this partition. */
export function runsWaitingFor(config: PipelineConfig, req: DataReadyRequest) {
  const runs: { pipeline: string; segment?: string }[] = [];
  const known = new Set<string>();
  /** Formats of the pipelines that wait for the dataset but not in a partition of this shape. */
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
      if (datasets.includes(req.dataset)) runs.push({ pipeline: name, segment });
    }
  }
  return { runs, known: [...known].sort(), otherFormats: [...otherFormats].sort() };
}

/**
 * Tells every run waiting for this dataset and partition that it is ready, starting runs that do
 * not exist yet (update-with-start, USE_EXISTING), and reports what each still waits for.
 */
export async function sendDataReady(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<DataReadyReport> {
  const parsed = RouteDataReadyInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid data-ready:\n${z.prettifyError(parsed.error)}`);
  const req = parsed.data;
  const environments = [...new Set(Object.values(config.pipelines).flatMap((p) => Object.keys(p.environments)))].sort();
  if (!environments.includes(req.environment))
    throw new TrainingRequestError(
      `environment "${req.environment}" is not in the config; it has: ${environments.join(', ')}`,
    );
  const { runs, known, otherFormats } = runsWaitingFor(config, req);
  if (!runs.length && otherFormats.length) {
    throw new TrainingRequestError(
      `partition "${req.partition}" is not in the format of the pipelines that wait for dataset "${req.dataset}" (${otherFormats.join(', ')})`,
    );
  }
  if (!runs.length) {
    throw new TrainingRequestError(
      `no pipeline in environment "${req.environment}" waits for dataset "${req.dataset}" in partition "${req.partition}"; datasets it knows: ${known.join(', ') || 'none'}`,
    );
  }
  const report: DataReadyReport = { dataset: req.dataset, partition: req.partition, reached: [], finished: [] };
  const { environment, ...args } = req;
  await Promise.all(
    runs.map(async (run) => {
      const input = TrainingRunInput.parse({
        pipeline: run.pipeline,
        environment,
        partition: req.partition,
        segment: run.segment,
      });
      const options = startOptions(config, input, { ...opts, rerun: false });
      try {
        const ack = await client.workflow.executeUpdateWithStart(dataReadyUpdate, {
          args: [args],
          startWorkflowOperation: new WithStartWorkflowOperation<typeof trainingRun>(trainingRunWorkflowType, options),
        });
        report.reached.push({ ...ack, pipeline: run.pipeline, segment: run.segment });
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

/** Starts the training of every segment of a partition (at most fanOut.maxConcurrentRuns at once). */
export async function startTrainingFanout(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingFanout>> {
  const parsed = TrainingFanoutInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid training fan-out:\n${z.prettifyError(parsed.error)}`);
  let plan;
  try {
    plan = trainingFanoutPlan(config, parsed.data);
  } catch (err) {
    refuse(err);
  }
  const env = config.pipelines[parsed.data.pipeline]!.environments[parsed.data.environment]!;
  return client.workflow.start<typeof trainingFanout>(trainingFanoutWorkflowType, {
    workflowId: trainingFanoutId(parsed.data),
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [parsed.data],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Training ${parsed.data.pipeline} · ${parsed.data.environment} · ${plan.segments.length} segments · ${parsed.data.partition}`,
  });
}

export type { DataReadyReport, TrainingPhase };
