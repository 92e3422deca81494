import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  predictionProgressQuery,
  predictionRunId,
  predictionRunWorkflowType,
  searchAttributes as sa,
  trainingRunId,
  trainingRunWorkflowType,
  trainingStatusQuery,
  vertexJobMemoKey,
  type VertexJobMemo,
} from '../contracts';
import { predictionOf } from '../config/runs';
import type { PipelineConfig } from '../config/pipeline-config';
import { checkRunIdentity } from '../config/runs';
import { TrainingRequestError } from './training';

// Finding, watching and cancelling runs, for `ct status | cancel | list`.

export interface RunAddress {
  id?: string;
  pipeline?: string;
  environment?: string;
  partition?: string;
  segment?: string;
  prediction?: boolean;
}

/** A run's id, from its id or its identity; an identity is checked against the config when one is given. */
export function runIdOf(a: RunAddress, config?: PipelineConfig): string {
  if (a.id) return a.id;
  if (!a.pipeline || !a.environment || !a.partition)
    throw new TrainingRequestError(
      'name the run: --id, or --pipeline, --env and --partition (and --segment, or --prediction)',
    );
  if (config) {
    try {
      if (a.prediction)
        predictionOf(config, { pipeline: a.pipeline, environment: a.environment, partition: a.partition });
      else
        checkRunIdentity(config, {
          pipeline: a.pipeline,
          environment: a.environment,
          partition: a.partition,
          segment: a.segment,
        });
    } catch (err) {
      throw new TrainingRequestError((err as Error).message);
    }
  }
  return a.prediction
    ? predictionRunId({ environment: a.environment, pipeline: a.pipeline, partition: a.partition })
    : trainingRunId({ environment: a.environment, pipeline: a.pipeline, partition: a.partition, segment: a.segment });
}

export interface RunStatus {
  workflowId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime?: string;
  /** The run's own view: training phase, datasets, Vertex job and link; or prediction progress. */
  detail?: unknown;
  /** A training run's current Vertex job, from its memo: there even when no worker answers for `detail`. */
  vertexJob?: VertexJobMemo;
}

export async function runStatus(client: Client, id: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle(id);
  let d;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new TrainingRequestError(`there is no run ${id}`);
    throw err;
  }
  let detail: unknown;
  // Queries need a worker; a closed run's last state still answers from its history.
  if (d.type === trainingRunWorkflowType) detail = await handle.query(trainingStatusQuery).catch(() => undefined);
  else if (d.type === predictionRunWorkflowType)
    detail = await handle.query(predictionProgressQuery).catch(() => undefined);
  const vertexJob = d.memo?.[vertexJobMemoKey] as VertexJobMemo | undefined;
  return {
    workflowId: id,
    type: d.type,
    status: d.status.name,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString(),
    detail,
    ...(vertexJob ? { vertexJob } : {}),
  };
}

export async function cancelRun(client: Client, id: string): Promise<void> {
  try {
    await client.workflow.getHandle(id).cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new TrainingRequestError(`there is no open run ${id}`);
    throw err;
  }
}

const STATUSES: Record<string, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
};
const TYPES: Record<string, string> = { training: trainingRunWorkflowType, prediction: predictionRunWorkflowType };

export async function listRuns(
  client: Client,
  f: { pipeline?: string; environment?: string; status?: string; type?: string; limit?: number },
) {
  if (f.limit !== undefined && !(Number.isInteger(f.limit) && f.limit >= 1 && f.limit <= 10_000))
    throw new TrainingRequestError('--limit takes a whole number from 1 to 10000');
  if (f.status !== undefined && !STATUSES[f.status])
    throw new TrainingRequestError(`--status is one of ${Object.keys(STATUSES).join(', ')}`);
  if (f.type !== undefined && !TYPES[f.type])
    throw new TrainingRequestError(`--type is one of ${Object.keys(TYPES).join(', ')}`);
  const clauses = [
    f.type
      ? `WorkflowType = "${TYPES[f.type]}"`
      : `WorkflowType IN ("${trainingRunWorkflowType}", "${predictionRunWorkflowType}")`,
    ...(f.pipeline ? [`${sa.pipeline.name} = "${f.pipeline.replace(/"/g, '')}"`] : []),
    ...(f.environment ? [`${sa.environment.name} = "${f.environment.replace(/"/g, '')}"`] : []),
    ...(f.status ? [`ExecutionStatus = "${STATUSES[f.status]}"`] : []),
  ];
  const out = [];
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
    out.push({
      workflowId: w.workflowId,
      type: w.type,
      status: w.status.name,
      startTime: w.startTime.toISOString(),
      phase: w.typedSearchAttributes.get(sa.runPhase),
    });
    if (out.length >= (f.limit ?? 100)) break;
  }
  return out;
}
