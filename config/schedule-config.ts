import { z } from 'zod';
import { Duration, TimeZone } from './primitives';

// Schedules declared beside the pipelines and reconciled into Temporal Schedules by
// `ct schedules sync` (client/schedules/). Each becomes one schedule per environment.

const Calendar = z.strictObject({
  minute: z.array(z.number().int().min(0).max(59)).min(1).default([0]),
  hour: z.array(z.number().int().min(0).max(23)).min(1).default([0]),
  dayOfMonth: z.array(z.number().int().min(1).max(31)).min(1).optional(),
  month: z.array(z.number().int().min(1).max(12)).min(1).optional(),
  dayOfWeek: z
    .array(z.enum(['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY']))
    .min(1)
    .optional(),
});

export const ScheduleDef = z
  .strictObject({
    /** What a firing starts: the partition's training (every segment) or its batch prediction. */
    action: z.enum(['training', 'prediction']),
    /** Environments that get this schedule; all of the pipeline's when omitted. */
    environments: z.array(z.string().min(1)).min(1).optional(),
    cron: z
      .string()
      .regex(/^(\S+\s+){4}\S+$/, 'a five-field cron expression like "0 3 * * *"')
      .optional(),
    interval: Duration.optional(),
    calendar: Calendar.optional(),
    timezone: TimeZone.default('UTC'),
    jitter: Duration.optional(),
    overlap: z
      .enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'])
      .default('skip'),
    /**
     * How late a firing missed while the server was down may still run. The server skips the
     * firings a pause spans; `ct schedules unpause --catch-up` runs those still within this window.
     */
    catchupWindow: Duration.prefault('1d'),
    pauseOnFailure: z.boolean().default(false),
    startAt: z.iso.datetime({ offset: true }).optional(),
    endAt: z.iso.datetime({ offset: true }).optional(),
    /** Created paused, with this note; a sync keeps an operator's pause or unpause otherwise. */
    paused: z.strictObject({ note: z.string().min(1) }).optional(),
    /**
     * The partition a firing works on: the scheduled time in `timezone`, moved by `offset` units
     * of the partition format (-1 on a daily pipeline firing at 03:00 Tokyo = yesterday in Tokyo).
     */
    partition: z
      .strictObject({ offset: z.number().int().min(-366).max(366).default(-1), timezone: TimeZone.optional() })
      .prefault({}),
  })
  .refine((s) => [s.cron, s.interval, s.calendar].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of cron, interval, calendar',
  });
export type ScheduleDef = z.output<typeof ScheduleDef>;

export const Schedules = z.record(
  z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'schedule names: lowercase, digits and -'),
  ScheduleDef,
);
