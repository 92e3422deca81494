// A run's message handlers finish before the run does: a data-ready that arrived with the start
// (update-with-start) and waits for the plan is answered with the reason when planning fails,
// instead of being abandoned when the run ends (its caller would never learn why).
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { dataReadyUpdate, INVALID_INPUT, trainingRunWorkflowType } from '../../contracts';
import type { trainingRun } from '../../workflows';
import { uniquePartition } from '../helpers/isolation';
import { uniqueId, withWorker } from '../helpers/temporal';

jest.setTimeout(60_000);

test('a data-ready waiting for the plan of a run that cannot be planned is refused with the reason, and the run fails', async () => {
  await withWorker(async (ctx) => {
    const partition = uniquePartition('daily');
    const workflowId = uniqueId('training:nowhere');
    // Started raw (as from the UI), past the client's checks: only the run's planning sees the pipeline is unknown.
    const update = ctx.client.workflow.executeUpdateWithStart(dataReadyUpdate, {
      args: [{ dataset: 'clicks', partition }],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof trainingRun>(trainingRunWorkflowType, {
        workflowId,
        taskQueue: ctx.taskQueue,
        args: [{ pipeline: 'no-such-pipeline', environment: 'staging', partition }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
    const err = await update.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe(INVALID_INPUT);
    expect((cause as ApplicationFailure).message).toContain('unknown pipeline "no-such-pipeline"');
    const described = await ctx.client.workflow.getHandle(workflowId).describe();
    expect(described.status.name).toBe('FAILED');
  });
});
