// Partitions are real calendar values, checked the same way by every side: the TypeScript contract
// (workflows, client, config, CLI) and the Airflow operator's Python. Generated values from around
// the calendar's edges are run through both, and through an oracle of their own (Date round trip).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { partitionFormatOf, TrainingRunInput, DataReadyArgs, PredictionRunInput } from '../../contracts';

const pythonModule = path.join(
  __dirname,
  '..',
  '..',
  'integrations',
  'airflow',
  'ct_coordinator_airflow',
  'partition.py',
);

/** The Python side's verdicts, for many values in one process (loaded by path: no Airflow needed). */
function pythonFormats(values: string[]): (string | null)[] {
  const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("partition", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(json.dumps([m.partition_format_of(v) for v in json.load(sys.stdin)]))`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, pythonModule], { input: JSON.stringify(values), encoding: 'utf8' }),
  ) as (string | null)[];
}

/** An oracle that shares no code with either: the value survives a round trip through Date. */
function oracle(v: string): string | null {
  const m = /^([0-9]{4})-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}))?)?$/.exec(v);
  if (!m) return null;
  const [y, mo, d = '01', h = '00'] = m.slice(1).map((x) => x);
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), 0, 0, 0);
  const back = `${String(date.getUTCFullYear()).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}-${String(date.getUTCDate()).padStart(2, '0')}T${String(date.getUTCHours()).padStart(2, '0')}`;
  if (Number(y) < 1 || back !== `${y}-${mo}-${d}T${h}`) return null;
  return m[4] !== undefined ? 'hourly' : m[3] !== undefined ? 'daily' : 'monthly';
}

const two = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
/** Values near the edges: months 00–13, days 00–32, hours 00–25, leap and common years, odd shapes. */
const partitionLike = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('1900', '2000', '2023', '2024', '2026', '2100', '0000', '9999'),
      two(0, 13),
      two(0, 32),
      two(0, 25),
    )
    .chain(([y, m, d, h]) =>
      fc.constantFrom(
        `${y}-${m}`,
        `${y}-${m}-${d}`,
        `${y}-${m}-${d}T${h}`,
        `${y}${m}${d}`,
        `${y}-${m}-${d} ${h}`,
        `${y}-${m}-${d}T${h}:00`,
      ),
    ),
  fc.string({ maxLength: 14 }),
  fc.constantFrom('٢٠٢٦-١١-٢١', '2026-11-21\n', ' 2026-11', '2026-1-5', '2026-11-21t07', '+2026-11'),
);

test('TypeScript, the Airflow operator’s Python and an independent oracle agree on every partition', () => {
  const values = fc.sample(partitionLike, { numRuns: 3000, seed: 13 });
  const fixed = [
    '2026-02-30',
    '2026-02-29',
    '2024-02-29',
    '1900-02-29',
    '2000-02-29',
    '2026-04-31',
    '2026-11-21T24',
    '2026-11-21T23',
    '2026-13',
    '2026-00',
    '2026-11',
  ];
  const all = [...fixed, ...values];
  const ts = all.map((v) => partitionFormatOf(v) ?? null);
  expect(pythonFormats(all)).toEqual(ts);
  expect(all.map(oracle)).toEqual(ts);
  expect(fixed.map((v) => partitionFormatOf(v) ?? null)).toEqual([
    null,
    null,
    'daily',
    null,
    'daily',
    null,
    null,
    'hourly',
    null,
    null,
    'monthly',
  ]);
  // Enough of each kind that the agreement means something.
  for (const kind of ['daily', 'hourly', 'monthly', null])
    expect(ts.filter((t) => t === kind).length).toBeGreaterThan(50);
});

test('every contract that carries a partition refuses one that is not a real date, naming the field', () => {
  const bad = { pipeline: 'p', environment: 'e', partition: '2026-02-30' };
  for (const [schema, value] of [
    [TrainingRunInput, bad],
    [PredictionRunInput, bad],
    [DataReadyArgs, { dataset: 'd', partition: '2026-02-30' }],
  ] as const) {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['partition']);
  }
});
