import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { trainingStatusQuery, type TrainingRunStatus } from '../../contracts';
import type { trainingRun } from '../../workflows';
import { eventually } from './eventually';

// Steps the training-run suites share: watching a run's status and how it ended.

export type TrainingRun = WorkflowHandle<typeof trainingRun>;

/** Polls the run's status query until `ok` holds, and returns that status. */
export const statusUntil = (run: TrainingRun, ok: (s: TrainingRunStatus) => boolean, timeoutMs = 30_000) =>
  eventually(async () => {
    const s = await run.query(trainingStatusQuery);
    return ok(s) ? s : undefined;
  }, timeoutMs);

/** The run ended Cancelled: its result rejects with a CancelledFailure. */
export async function expectCancelled(run: TrainingRun): Promise<void> {
  const err = await run.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
}
