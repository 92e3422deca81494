import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { PARTITION_FORMATS, TimeZone, wallClockMs } from './partition';
import type { RunCost } from './cost';

// What a schedule's firing runs: `scheduledRun` works out the partition from the scheduled time
// and hands over to the one canonical run of that partition (whoever fires first, the others attach).

export const scheduledRunWorkflowType = 'scheduledRun';
export const ScheduledRunInput = z.strictObject({
  environment: z.string().min(1).max(64),
  pipeline: z.string().min(1).max(64),
  /** The schedule's name in the pipeline's config, which must say the same as the fields below. */
  schedule: z.string().min(1).max(64),
  action: z.enum(['training', 'prediction']),
  format: z.enum(PARTITION_FORMATS),
  /** Partition units to move from the scheduled time (-1: the one before). */
  offset: z.number().int().min(-366).max(366),
  timezone: TimeZone,
});
export type ScheduledRunInput = z.infer<typeof ScheduledRunInput>;

export interface ScheduledRunStatus {
  state: 'starting' | 'following' | 'done';
  partition?: string;
  scheduledAt?: string;
  workflowId?: string;
  outcome?: ScheduledRunResult['outcome'];
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}
export const scheduledRunQuery = defineQuery<ScheduledRunStatus>('status');

export interface ScheduledRunResult {
  partition: string;
  scheduledAt: string;
  workflowId: string;
  /** started: this firing started it; attached: it was running; finished: it already ran (nothing new). */
  outcome: 'started' | 'attached' | 'finished';
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}

/** Schedule ids this project manages; the memo marks them too, and sync touches no other. */
export const scheduleId = (environment: string, pipeline: string, name: string) =>
  `ct:${environment}:${pipeline}:${name}`;
export const MANAGED_BY = 'ct-coordinator';

/**
 * The partition a time falls in, in a time zone, moved by `offset` units of the format. Hours move
 * in absolute time, then take the local wall-clock hour: across a daylight-saving change the hour
 * before 03:30 EDT is 01:30 EST (02 does not exist that day), and the repeated 01 at the fall-back
 * is one partition reached from either of its real hours. Days and months move on the local
 * calendar, where a 23- or 25-hour day is still one day.
 */
export function partitionAt(
  time: Date,
  format: 'daily' | 'hourly' | 'monthly',
  offset: number,
  timeZone: string,
): string {
  if (format === 'hourly')
    return wallClock(new Date(time.getTime() + offset * 3_600_000), timeZone)
      .toISOString()
      .slice(0, 13);
  const local = wallClock(time, timeZone);
  if (format === 'monthly') {
    local.setUTCMonth(local.getUTCMonth() + offset, 1);
    return local.toISOString().slice(0, 7);
  }
  local.setUTCDate(local.getUTCDate() + offset);
  return local.toISOString().slice(0, 10);
}

/** A time's local wall-clock date and hour in a time zone, written as that instant in UTC (for calendar arithmetic). */
function wallClock(time: Date, timeZone: string): Date {
  const wall = wallClockMs(time.getTime(), timeZone);
  return new Date(wall - (wall % 3_600_000));
}
