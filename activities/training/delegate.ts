import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { trainingRunWorkflowType, type TrainingRunInput } from '../../contracts';

/**
 * A run started under another workflow id (the UI's Start Workflow form, a schedule's
 * timestamped id) hands over to the run's own id, so there is one run per partition whoever
 * fires first. USE_EXISTING attaches to a running one; REJECT_DUPLICATE keeps a finished
 * partition finished (re-running it is an explicit act).
 */
export function createDelegateActivity(deps: { temporal: Client }) {
  return async function startCanonicalRun(req: { workflowId: string; taskQueue: string; input: TrainingRunInput }): Promise<{ workflowId: string; runId?: string; alreadyFinished: boolean }> {
    try {
      const handle = await deps.temporal.workflow.start(trainingRunWorkflowType, {
        workflowId: req.workflowId,
        taskQueue: req.taskQueue,
        args: [req.input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, alreadyFinished: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId: req.workflowId, alreadyFinished: true };
      throw err;
    }
  };
}
