// Hourly partitions across daylight-saving changes (America/New_York, 2026): every firing's
// "previous hour" is an hour that exists on the wall clock, and the repeated hour at the fall-back
// is reached from both of its real hours. Days and months still move on the local calendar.
import { partitionAt } from '../../contracts';

const NY = 'America/New_York';
const previousHour = (iso: string) => partitionAt(new Date(iso), 'hourly', -1, NY);

test('spring forward (2026-03-08, 02:00 EST → 03:00 EDT): the hour before 03:30 EDT is 01 EST, and 02 is never a partition', () => {
  expect(previousHour('2026-03-08T07:30:00Z')).toBe('2026-03-08T01'); // 03:30 EDT → 01:30 EST
  // Firings every hour of that night: consecutive real hours, no 02, no hour twice.
  const hours = ['05:30', '06:30', '07:30', '08:30', '09:30'].map((t) => previousHour(`2026-03-08T${t}:00Z`));
  expect(hours).toEqual(['2026-03-07T23', '2026-03-08T00', '2026-03-08T01', '2026-03-08T03', '2026-03-08T04']);
  // Two hours back from 04:30 EDT is 01:30 EST, not the missing 02.
  expect(partitionAt(new Date('2026-03-08T08:30:00Z'), 'hourly', -2, NY)).toBe('2026-03-08T01');
  // The current hour (offset 0) is the wall-clock hour.
  expect(partitionAt(new Date('2026-03-08T07:30:00Z'), 'hourly', 0, NY)).toBe('2026-03-08T03');
});

test('fall back (2026-11-01, 02:00 EDT → 01:00 EST): the hour before 01:30 EST is 01 (EDT), and 00 is reached only from 01 EDT', () => {
  expect(previousHour('2026-11-01T06:30:00Z')).toBe('2026-11-01T01'); // 01:30 EST → 01:30 EDT
  const hours = ['04:30', '05:30', '06:30', '07:30', '08:30'].map((t) => previousHour(`2026-11-01T${t}:00Z`));
  // 01 is two real hours long that day: both of its hours land on it; nothing skips or goes back.
  expect(hours).toEqual(['2026-10-31T23', '2026-11-01T00', '2026-11-01T01', '2026-11-01T01', '2026-11-01T02']);
});

test('days and months move on the local calendar across the changes (23- and 25-hour days are one day)', () => {
  // 00:30 EDT on 3/9 (just after the 23-hour day): yesterday is 3/8.
  expect(partitionAt(new Date('2026-03-09T04:30:00Z'), 'daily', -1, NY)).toBe('2026-03-08');
  // 23:30 EST on 11/1 (the 25-hour day): yesterday is 10/31, today is 11/1.
  expect(partitionAt(new Date('2026-11-02T04:30:00Z'), 'daily', -1, NY)).toBe('2026-10-31');
  expect(partitionAt(new Date('2026-11-02T04:30:00Z'), 'daily', 0, NY)).toBe('2026-11-01');
  expect(partitionAt(new Date('2026-03-31T03:30:00Z'), 'monthly', -1, NY)).toBe('2026-02'); // 23:30 EDT on 3/30
  expect(partitionAt(new Date('2026-03-31T03:30:00Z'), 'daily', -30, NY)).toBe('2026-02-28');
});
