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
