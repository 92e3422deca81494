import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import {
  INVALID_INPUT,
  routeDataReadyId,
  routeDataReadyWorkflowType,
  type DataReadyReport,
  type RouteDataReadyInput,
} from '../../contracts';

// Data-ready exactly as Airflow sends it: the Temporal call of CtCoordinatorHook.adata_ready
// (integrations/airflow/ct_coordinator_airflow/hook.py), made from TypeScript — execute
// `routeDataReady` with the payload as one plain object, id data-ready:{env}:{dataset}:{partition},
// conflict policy USE_EXISTING, reuse policy ALLOW_DUPLICATE, a 5-minute execution timeout — and
// Airflow's task retries around it when the call fails for any reason but a refusal.

export class DataReadyRefused extends Error {
  override name = 'DataReadyRefused';
}

/** The hook's call, once. */
export async function hookDataReady(
  client: Client,
  taskQueue: string,
  req: RouteDataReadyInput,
): Promise<DataReadyReport> {
  return client.workflow.execute(routeDataReadyWorkflowType, {
    args: [req],
    workflowId: routeDataReadyId(req),
    taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowExecutionTimeout: '5 minutes',
  }) as Promise<DataReadyReport>;
}

const isRefusal = (err: unknown) => {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as { type?: string }).type === INVALID_INPUT) return true;
  }
  return false;
};

/**
 * The operator's task: the hook's call with Airflow's retries (every `retryDelayMs`, until
 * `deadlineMs` has passed), as a DAG's `retries` and `retry_delay` would. A refusal is not retried.
 */
export async function airflowTask(
  client: Client,
  taskQueue: string,
  req: RouteDataReadyInput,
  opts: { retryDelayMs: number; deadlineMs: number; onRetry?: (err: unknown) => void },
): Promise<{ report: DataReadyReport; tries: number }> {
  const deadline = Date.now() + opts.deadlineMs;
  for (let tries = 1; ; tries++) {
    try {
      return { report: await hookDataReady(client, taskQueue, req), tries };
    } catch (err) {
      if (isRefusal(err) || (err instanceof WorkflowFailedError && isRefusal(err.cause)))
        throw new DataReadyRefused(err instanceof Error ? err.message : String(err), { cause: err });
      if (Date.now() + opts.retryDelayMs > deadline) throw err;
      opts.onRetry?.(err);
      await sleep(opts.retryDelayMs);
    }
  }
}
