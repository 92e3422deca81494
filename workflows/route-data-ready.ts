import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { liftInvalidInput, parsePayload, RouteDataReadyInput, type DataReadyReport } from '../contracts';
import { planning } from './support/activity-options';

const { routeDataReady: route } = proxyActivities<Activities>(planning);

/**
 * Data-ready for callers without the pipeline config (Airflow's Python operator): the activity
 * reaches every run that waits for the dataset, starting them if need be, and the report (which
 * runs, what each still waits for) is the result. Bad input fails it at once with the reason.
 */
export async function routeDataReady(rawInput: RouteDataReadyInput): Promise<DataReadyReport> {
  const input = parsePayload(RouteDataReadyInput, rawInput, 'data-ready');
  // Runs start on this workflow's task queue: the environment's, as the caller chose it.
  return route({ input, taskQueue: workflowInfo().taskQueue }).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
}
