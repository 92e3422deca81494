import type { Client } from '@temporalio/client';
import { trainingRunWorkflowType, type TrainingRunInput } from '../../contracts';
import { startOrFind } from '../../starts/start-or-find';

/**
 * A run started under another workflow id (the UI's Start Workflow form, a schedule's
 * timestamped id) hands over to the run's own id, so there is one run per partition whoever
 * fires first: it attaches to a running one and keeps a finished partition finished.
 */
export function createDelegateActivity(deps: { temporal: Client }) {
  return async function startCanonicalRun(req: {
    workflowId: string;
    taskQueue: string;
    input: TrainingRunInput;
  }): Promise<{ workflowId: string; alreadyFinished: boolean }> {
    const outcome = await startOrFind(deps.temporal, {
      workflowType: trainingRunWorkflowType,
      workflowId: req.workflowId,
      taskQueue: req.taskQueue,
      args: [req.input],
    });
    return { workflowId: req.workflowId, alreadyFinished: outcome === 'finished' };
  };
}
