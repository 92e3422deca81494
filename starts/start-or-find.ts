import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';

/**
 * Starts the one run under a canonical workflow id, or finds it: `attached` when it is running,
 * `finished` when it already ran (REJECT_DUPLICATE keeps a finished partition finished; running it
 * again is an explicit act). Shared by hand-over, schedule firings, model-ready's prediction start and
 * alerts' retrain requests (whose memo and search attribute say which incident started the run).
 */
export async function startOrFind(
  temporal: Client,
  opts: {
    workflowType: string;
    workflowId: string;
    taskQueue: string;
    args: unknown[];
    staticSummary?: string;
    memo?: WorkflowStartOptions['memo'];
    typedSearchAttributes?: WorkflowStartOptions['typedSearchAttributes'];
  },
): Promise<'started' | 'attached' | 'finished'> {
  try {
    await temporal.workflow.start(opts.workflowType, {
      ...opts,
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return 'started';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const { status } = await temporal.workflow.getHandle(opts.workflowId).describe();
    return status.name === 'RUNNING' ? 'attached' : 'finished';
  }
}
