import { createHash } from 'node:crypto';
import type { CalendarSpec, ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { ScheduleDef } from '../../config/schedule-config';
import {
  MANAGED_BY,
  scheduledRunWorkflowType,
  scheduleId,
  searchAttributes as sa,
  type ScheduledRunInput,
} from '../../contracts';

// The schedules the config asks for in one environment, as Temporal ScheduleOptions, each with the
// plain fields a plan shows and a hash of them (kept on the schedule) so an unchanged one is skipped.

export interface DesiredSchedule {
  id: string;
  pipeline: string;
  name: string;
  /** What the config says, flat: what a plan prints and diffs. */
  fields: Record<string, unknown>;
  hash: string;
  options: ScheduleOptions;
}

const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
function calendarSpec(c: NonNullable<ScheduleDef['calendar']>): CalendarSpec {
  return {
    minute: c.minute,
    hour: c.hour,
    ...(c.dayOfMonth ? { dayOfMonth: c.dayOfMonth } : {}),
    ...(c.month ? { month: c.month.map((m) => MONTHS[m - 1]!) } : {}),
    ...(c.dayOfWeek ? { dayOfWeek: c.dayOfWeek } : {}),
  };
}

const overlapPolicy = (o: string) => o.toUpperCase().replace(/-/g, '_') as ScheduleOverlapPolicy;

export function desiredSchedules(config: PipelineConfig, environment: string): DesiredSchedule[] {
  const out: DesiredSchedule[] = [];
  for (const [pipelineName, pipeline] of Object.entries(config.pipelines)) {
    const env = pipeline.environments[environment];
    if (!env) continue;
    for (const [name, s] of Object.entries(pipeline.schedules ?? {})) {
      if (s.environments && !s.environments.includes(environment)) continue;
      const format = s.action === 'prediction' ? pipeline.prediction!.partition : pipeline.data.partition;
      const args: ScheduledRunInput = {
        environment,
        pipeline: pipelineName,
        schedule: name,
        action: s.action,
        format,
        offset: s.partition.offset,
        timezone: s.partition.timezone ?? s.timezone,
      };
      const fields = {
        action: s.action,
        cron: s.cron,
        intervalMs: s.interval,
        calendar: s.calendar,
        timezone: s.timezone,
        jitterMs: s.jitter,
        overlap: s.overlap,
        catchupWindowMs: s.catchupWindow,
        pauseOnFailure: s.pauseOnFailure,
        startAt: s.startAt,
        endAt: s.endAt,
        pausedNote: s.paused?.note,
        partition: `${format}, offset ${s.partition.offset}, ${args.timezone}`,
        taskQueue: env.temporal.taskQueue,
      };
      const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      const hash = createHash('sha256').update(JSON.stringify(clean)).digest('hex').slice(0, 16);
      const id = scheduleId(environment, pipelineName, name);
      out.push({
        id,
        pipeline: pipelineName,
        name,
        fields: clean,
        hash,
        options: {
          scheduleId: id,
          spec: {
            ...(s.cron ? { cronExpressions: [s.cron] } : {}),
            ...(s.interval ? { intervals: [{ every: s.interval }] } : {}),
            ...(s.calendar ? { calendars: [calendarSpec(s.calendar)] } : {}),
            timezone: s.timezone,
            ...(s.jitter ? { jitter: s.jitter } : {}),
            ...(s.startAt ? { startAt: new Date(s.startAt) } : {}),
            ...(s.endAt ? { endAt: new Date(s.endAt) } : {}),
          },
          action: {
            type: 'startWorkflow',
            workflowType: scheduledRunWorkflowType,
            // The schedule appends the firing's timestamp; scheduledRun hands over to the partition's run.
            workflowId: `scheduled:${environment}:${pipelineName}:${name}`,
            taskQueue: env.temporal.taskQueue,
            args: [args],
            // The fields as they were applied: the next plan diffs against them.
            memo: { ctFields: clean },
            staticSummary: `Scheduled ${s.action} · ${pipelineName} · ${environment} (${name})`,
          },
          policies: {
            overlap: overlapPolicy(s.overlap),
            catchupWindow: s.catchupWindow,
            pauseOnFailure: s.pauseOnFailure,
          },
          state: s.paused ? { paused: true, note: s.paused.note } : { paused: false },
          memo: { managedBy: MANAGED_BY, pipeline: pipelineName, schedule: name },
          typedSearchAttributes: [{ key: sa.scheduleHash, value: hash }],
        },
      });
    }
  }
  return out;
}
