import { CancellationScope, condition, proxyActivities, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  parsePayload,
  ReleaseSignalArgs,
  releaseSignal,
  StackCheckInput,
  statusQuery,
  type StackCheckResult,
  type StackCheckStatus,
  PROBE_MISMATCH,
} from '../contracts';
import { planning } from './support/activity-options';

const { writeProbe, readProbe, deleteProbe } = proxyActivities<Activities>(planning);

export async function stackCheck(rawInput: StackCheckInput): Promise<StackCheckResult> {
  const input = parsePayload(StackCheckInput, rawInput, 'stackCheck input');
  // uuid4() is seeded from history, so it is stable across replays.
  const probe = {
    bucket: input.bucket,
    object: `${input.objectPrefix.replace(/\/+$/, '')}/${workflowInfo().workflowId}/${uuid4()}.txt`,
  };
  const content = `stack check by ${workflowInfo().workflowId} run ${workflowInfo().runId}`;
  const status: StackCheckStatus = { phase: 'writing' };
  let releasedBy: string | null = null;

  setHandler(statusQuery, () => status);
  setHandler(releaseSignal, (raw) => {
    // A malformed signal must not fail the workflow task; it is ignored and the hold goes on.
    const parsed = ReleaseSignalArgs.safeParse(raw);
    if (parsed.success && releasedBy === null) {
      releasedBy = parsed.data.by;
      status.releasedBy = releasedBy;
    }
  });

  const written = await writeProbe({ ...probe, content });
  status.objectUri = written.objectUri;
  try {
    status.phase = 'reading';
    const readBack = await readProbe(probe);
    if (readBack !== content) {
      throw ApplicationFailure.nonRetryable(
        `read back ${JSON.stringify(readBack)} from ${written.objectUri}, wrote ${JSON.stringify(content)}`,
        PROBE_MISMATCH,
      );
    }
    if (input.holdSeconds > 0) {
      status.phase = 'holding';
      await condition(() => releasedBy !== null, input.holdSeconds * 1000);
    }
  } catch (err) {
    // Cancellation (unlike termination) lets the workflow clean up: the delete runs in a
    // non-cancellable scope, then the error is re-thrown so a cancelled run ends Cancelled.
    status.phase = 'cleaning-up';
    await CancellationScope.nonCancellable(() => deleteProbe(probe));
    throw err;
  }
  status.phase = 'cleaning-up';
  await deleteProbe(probe);
  status.phase = 'done';
  return { objectUri: written.objectUri, bytes: written.bytes, releasedBy };
}
