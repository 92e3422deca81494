import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  reserveCreateUpdate,
  vertexCreateAccountId,
  vertexCreateAccountWorkflowType,
} from '../../contracts/vertex-create-account';
import type { SharedCreateAccount } from '../vertex/budget';

/**
 * The create account of workflows/vertex-create-account.ts, reached with an update-with-start: the
 * first create of a project and region from this task queue's workers starts it (on that queue),
 * every later one finds it running. One update per create: one action, ~10–30 ms.
 */
export function temporalCreateAccount(client: Client, taskQueue: string): SharedCreateAccount {
  return {
    async reserve(project, region, perMinute, maxWaitMs) {
      const { waitMs } = await client.workflow.executeUpdateWithStart(reserveCreateUpdate, {
        args: [{ perMinute, maxWaitMs }],
        startWorkflowOperation: new WithStartWorkflowOperation(vertexCreateAccountWorkflowType, {
          workflowId: vertexCreateAccountId(taskQueue, project, region),
          taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [],
        }),
      });
      return waitMs;
    },
  };
}
