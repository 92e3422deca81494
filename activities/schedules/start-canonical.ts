import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, ratesFor, type Prices } from '../../config/prices';
import { segmentsOf } from '../../config/runs';
import {
  predictionRunId,
  predictionRunWorkflowType,
  trainingFanoutId,
  trainingFanoutWorkflowType,
  trainingRunId,
  trainingRunWorkflowType,
  INVALID_INPUT,
  type ScheduledRunInput,
  type Rates,
  type ScheduledRunResult,
} from '../../contracts';
import { startOrFind } from '../../starts/start-or-find';

// A schedule's firing starts the partition's canonical run, the one Airflow's data-ready and
// operators reach too: started here if nobody has, attached if it runs, nothing if it already ran
// (so a backfill over days that ran starts nothing new for them).

export function createStartScheduledActivity(deps: { config: PipelineConfig; temporal: Client; prices?: Prices }) {
  return async function startScheduledRun(req: {
    environment: string;
    pipeline: string;
    action: 'training' | 'prediction';
    partition: string;
    /** The firing's own input (runs recorded before it was passed lack it). */
    scheduled?: ScheduledRunInput;
  }): Promise<
    Omit<ScheduledRunResult, 'scheduledAt'> & { follow: { pollIntervalMs: number; chunkMs: number }; rates?: Rates }
  > {
    const pipeline = deps.config.pipelines[req.pipeline];
    if (!pipeline)
      throw refuse(
        `pipeline: the config has no pipeline "${req.pipeline}"; it has: ${Object.keys(deps.config.pipelines).join(', ')}`,
      );
    if (!pipeline.environments[req.environment])
      throw refuse(
        `environment: pipeline ${req.pipeline} has no environment "${req.environment}"; it has: ${Object.keys(pipeline.environments).join(', ')}`,
      );
    if (req.scheduled) checkSchedule(pipeline, req.scheduled);
    const id = { environment: req.environment, pipeline: req.pipeline, partition: req.partition };
    const perSegment = segmentsOf(pipeline).length > 0;
    // The firing follows the run as the run follows its Vertex job: same interval, same chunks.
    const follow = { pollIntervalMs: pipeline.polling.interval, chunkMs: pipeline.polling.chunk };
    const [workflowType, workflowId] =
      req.action === 'prediction'
        ? [predictionRunWorkflowType, predictionRunId(id)]
        : perSegment
          ? [trainingFanoutWorkflowType, trainingFanoutId(id)]
          : [trainingRunWorkflowType, trainingRunId(id)];
    const outcome = await startOrFind(deps.temporal, {
      workflowType,
      workflowId,
      taskQueue: Context.current().info.taskQueue,
      args: [{ pipeline: req.pipeline, environment: req.environment, partition: req.partition }],
      staticSummary: `${req.action === 'prediction' ? 'Prediction' : 'Training'} ${req.pipeline} · ${req.environment} · ${req.partition} (scheduled)`,
    });
    // The firing's own cost is priced at its pipeline's region (workflows/interceptors/run-cost.ts).
    const rates = ratesFor(deps.prices ?? pricesOnce(), pipeline.environments[req.environment]!.region);
    return { partition: req.partition, workflowId, outcome, follow, rates };
  };
}

const refuse = (why: string) => ApplicationFailure.nonRetryable(why, INVALID_INPUT);

/**
 * A firing says what its schedule in the config says, or it is not one of ours: a run started by
 * hand (the UI's form) with a made-up schedule, action or format would otherwise train for real.
 */
function checkSchedule(pipeline: PipelineConfig['pipelines'][string], s: ScheduledRunInput): void {
  const def = pipeline.schedules?.[s.schedule];
  const known = Object.keys(pipeline.schedules ?? {});
  if (!def)
    throw refuse(
      `schedule: pipeline ${s.pipeline} has no schedule "${s.schedule}"; it has: ${known.join(', ') || 'none'}`,
    );
  if (def.environments && !def.environments.includes(s.environment)) {
    throw refuse(
      `environment: schedule ${s.schedule} of ${s.pipeline} does not fire in "${s.environment}"; it fires in ${def.environments.join(', ')}`,
    );
  }
  if (def.action !== s.action)
    throw refuse(`action: schedule ${s.schedule} of ${s.pipeline} starts ${def.action}, not ${s.action}`);
  const format = s.action === 'prediction' ? pipeline.prediction?.partition : pipeline.data.partition;
  if (format !== s.format)
    throw refuse(`format: ${s.pipeline}'s ${s.action} partitions are ${format ?? 'not configured'}, not ${s.format}`);
}
