import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  liftInvalidInput,
  parsePayload,
  partitionAt,
  ScheduledRunInput,
  scheduledRunQuery,
  type ScheduledRunResult,
  type ScheduledRunStatus,
} from '../contracts';
import { handOverRetry, serviceCall } from './support/activity-options';

// A Temporal Schedule's action. The schedule appends its timestamp to this workflow's id, so this
// is not the partition's run: it works out the partition from the scheduled time, starts (or
// attaches to, or finds finished) the canonical run that data-ready and operators reach as well,
// and follows it to its end, so the schedule's overlap policy and pause-on-failure see that run.

const { startScheduledRun } = proxyActivities<Activities>(serviceCall);

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export async function scheduledRun(rawInput: ScheduledRunInput): Promise<ScheduledRunResult> {
  const input = parsePayload(ScheduledRunInput, rawInput, 'scheduledRun input');
  const info = workflowInfo();
  const status: ScheduledRunStatus = { state: 'starting' };
  setHandler(scheduledRunQuery, () => status);
  // Set by the schedule (also for backfills and triggers); a run started by hand uses its start time.
  const scheduledAt = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  const partition = partitionAt(scheduledAt, input.format, input.offset, input.timezone);
  // `rates` are for the firing's cost (workflows/interceptors/run-cost.ts), not its result.
  const {
    follow,
    rates: _rates,
    ...started
  } = await startScheduledRun({
    environment: input.environment,
    pipeline: input.pipeline,
    action: input.action,
    partition,
    scheduled: input,
  }).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
  Object.assign(status, {
    ...started,
    scheduledAt: scheduledAt.toISOString(),
    state: started.outcome === 'finished' ? 'done' : 'following',
  });
  setCurrentDetails(
    `**${input.schedule}** fired for ${scheduledAt.toISOString()} → partition ${partition}: ${started.outcome} ${started.workflowId}`,
  );
  if (started.outcome !== 'finished') {
    const { awaitScheduledRun } = proxyActivities<Activities>({
      startToCloseTimeout: follow.chunkMs + 30_000,
      // A failed run is non-retryable (SCHEDULED_RUN_FAILED).
      retry: handOverRetry,
    });
    await awaitScheduledRun({ workflowId: started.workflowId, ...follow });
    status.state = 'done';
  }
  return { ...started, scheduledAt: scheduledAt.toISOString() };
}
