import { z } from 'zod';

// Partitions and time zones, checked the same way by contracts (workflows), the config, the client
// and the CLI; integrations/airflow/ct_coordinator_airflow/partition.py mirrors the partition rule.
// A partition is a real calendar value in its pipeline's format: 2026-02-30 has the shape of a day
// but is none. Own patterns and plain functions, not zod's formats: zod's shared regexes are frozen
// in the workflow sandbox (see workflows/support/preload.ts).

export const PARTITION_FORMATS = ['daily', 'hourly', 'monthly'] as const;
export type PartitionFormat = (typeof PARTITION_FORMATS)[number];
export const partitionExamples = { daily: '2026-11-21', hourly: '2026-11-21T07', monthly: '2026-11' } as const;

const SHAPE = /^(\d{4})-(\d{2})(?:-(\d{2})(?:T(\d{2}))?)?$/;

/** The format a partition is in, if it is a real date (or hour, or month); undefined otherwise. */
export function partitionFormatOf(value: unknown): PartitionFormat | undefined {
  if (typeof value !== 'string') return undefined;
  const m = SHAPE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour] = [
    Number(m[1]),
    Number(m[2]),
    m[3] === undefined ? undefined : Number(m[3]),
    m[4] === undefined ? undefined : Number(m[4]),
  ];
  if (year < 1 || month < 1 || month > 12) return undefined;
  if (day === undefined) return 'monthly';
  // Day 0 of the next month is the last day of this one (leap years included).
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  if (hour === undefined) return 'daily';
  return hour <= 23 ? 'hourly' : undefined;
}

export const isPartition = (value: unknown, format: PartitionFormat) => partitionFormatOf(value) === format;

/** Why a partition is not one of `format`'s, naming the field; undefined when it is. */
export function partitionProblem(value: string, format: PartitionFormat, whose: string): string | undefined {
  if (isPartition(value, format)) return undefined;
  const other = partitionFormatOf(value);
  const why = other
    ? `it is ${other}`
    : `a real ${{ daily: 'day', hourly: 'hour', monthly: 'month' }[format]} like ${partitionExamples[format]}`;
  return `partition "${value}" is not ${format} (${why}) as ${whose} expects`;
}

/** Any partition a pipeline may have; the pipeline's own format is checked against the config. */
export const Partition = z
  .string()
  .max(13)
  .refine(
    (s) => partitionFormatOf(s) !== undefined,
    'a real calendar partition: daily 2026-11-21, hourly 2026-11-21T07 or monthly 2026-11',
  );

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TimeZone = z.string().min(1).max(64).refine(isTimeZone, 'an IANA time zone like Asia/Tokyo or UTC');

/**
 * When a partition begins and ends, as instants, reading its calendar value as wall-clock time in
 * `timeZone` (daily 2026-11-21 in Asia/Tokyo is 2026-11-20T15:00Z to 2026-11-21T15:00Z). A flag's
 * window (config/flag-trigger-config.ts) is measured from these.
 */
export function partitionSpan(
  partition: string,
  format: PartitionFormat,
  timeZone: string,
): { start: Date; end: Date } {
  const m = SHAPE.exec(partition);
  if (!m || !isPartition(partition, format)) throw new Error(`"${partition}" is not a ${format} partition`);
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]) - 1, Number(m[3] ?? 1), Number(m[4] ?? 0)];
  const start = Date.UTC(y, mo, d, h);
  const end =
    format === 'monthly' ? Date.UTC(y, mo + 1, 1) : format === 'daily' ? Date.UTC(y, mo, d + 1) : start + 3_600_000;
  return { start: new Date(fromWallClock(start, timeZone)), end: new Date(fromWallClock(end, timeZone)) };
}

/** The instant whose wall clock in `timeZone` reads `wall` (written as UTC milliseconds). */
function fromWallClock(wall: number, timeZone: string): number {
  // The zone's offset at a guess, then at the corrected instant: two passes settle a DST change.
  let t = wall;
  for (let i = 0; i < 2; i++) t = wall - zoneOffsetMs(t, timeZone);
  return t;
}

function zoneOffsetMs(t: number, timeZone: string): number {
  return wallClockMs(t, timeZone) - Math.floor(t / 1000) * 1000;
}

/** An instant's wall clock in `timeZone`, to the second, written as UTC milliseconds (for calendar arithmetic). */
export function wallClockMs(t: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  return Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}
