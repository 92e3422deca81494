import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { parsePayload, partitionAt, ScheduledRunInput, type ScheduledRunResult } from '../contracts';

// A Temporal Schedule's action. The schedule appends its timestamp to this workflow's id, so this
// is not the partition's run: it works out the partition from the scheduled time and starts (or
// attaches to, or finds finished) the canonical run that data-ready and operators reach as well.

const { startScheduledRun } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export async function scheduledRun(rawInput: ScheduledRunInput): Promise<ScheduledRunResult> {
  const input = parsePayload(ScheduledRunInput, rawInput, 'scheduledRun input');
  const info = workflowInfo();
  // Set by the schedule (also for backfills and triggers); a run started by hand uses its start time.
  const scheduledAt = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  const partition = partitionAt(scheduledAt, input.format, input.offset, input.timezone);
  const result = await startScheduledRun({ environment: input.environment, pipeline: input.pipeline, action: input.action, partition });
  setCurrentDetails(`**${input.schedule}** fired for ${scheduledAt.toISOString()} → partition ${partition}: ${result.outcome} ${result.workflowId}`);
  return { ...result, scheduledAt: scheduledAt.toISOString() };
}
