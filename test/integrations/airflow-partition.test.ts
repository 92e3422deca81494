// The Airflow package restates the partition rule in Python (Airflow runs without Node), so the two
// are checked equal here over generated cases: each case goes through contracts/partition.ts and
// routeDataReady's input schema in this process, and through ct_coordinator_airflow in one Python
// process of the Airflow venv (JSON lines in, JSON lines out). Compared per case: the format found,
// whether the value is a partition at all, and what CtCoordinatorHook.adata_ready does with it
// (refuses it before connecting, or executes routeDataReady under the workflow id the TS side
// computes), against a fake Temporal client.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Partition, partitionFormatOf, RouteDataReadyInput, routeDataReadyId } from '../../contracts';
import { testStack } from '../setup/test-stack';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..');
const python = path.join(root, '.tools', 'airflow-venv', 'bin', 'python');
const SEED = 20261121;

interface Case {
  value: unknown;
  environment: string;
  dataset: string;
}
interface Verdict {
  format: string | null;
  accepted: boolean;
  /** `refused:<error type>`, or the workflow id routeDataReady was executed under. */
  hook: string;
}

const DRIVER = `
import asyncio, json, sys
from ct_coordinator_airflow import hook as h
from ct_coordinator_airflow.partition import partition_format_of, partition_problem

class FakeClient:
    async def connect(self, target, **kwargs):
        return self
    async def execute_workflow(self, workflow, arg, **kwargs):
        assert workflow == "routeDataReady" and arg["partition"] is not None
        return kwargs["id"]

h.Client = FakeClient()

async def main():
    hook = h.CtCoordinatorHook(None)
    for i, line in enumerate(sys.stdin):
        case = json.loads(line)
        value = case["value"]
        try:
            via_hook = await hook.adata_ready(case["environment"], case["dataset"], value)
        except h.DataReadyRejected as err:
            via_hook = "refused:" + err.error_type
        verdict = {"format": partition_format_of(value), "accepted": partition_problem(value) is None, "hook": via_hook}
        print("verdict " + json.dumps({"i": i, **verdict}), flush=False)

asyncio.run(main())
`;

function pythonVerdicts(cases: Case[]): Verdict[] {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AIRFLOW|TEMPORAL_|CT_TASK_QUEUE|PYTHON)/.test(k)),
  );
  const airflowHome = mkdtempSync(path.join(testStack().CT_TEST_TMP_DIR, 'airflow-partition-'));
  try {
    const run = spawnSync(python, ['-c', DRIVER], {
      cwd: root,
      env: {
        ...env,
        AIRFLOW_HOME: airflowHome,
        PYTHONPATH: path.join(root, 'integrations', 'airflow'),
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUTF8: '1',
      },
      input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n',
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 90_000,
    });
    if (run.status !== 0) throw new Error(`python exited ${run.status ?? run.signal}:\n${run.stderr}\n${run.stdout}`);
    // Only the driver's lines: Airflow may log to stdout on import.
    const verdicts = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('verdict '))
      .map((l) => JSON.parse(l.slice('verdict '.length)) as Verdict & { i: number });
    expect(verdicts.map((v) => v.i)).toEqual(cases.map((_, i) => i));
    return verdicts.map(({ format, accepted, hook }) => ({ format, accepted, hook }));
  } finally {
    rmSync(airflowHome, { recursive: true, force: true });
  }
}

function tsVerdict({ value, environment, dataset }: Case): Verdict {
  const input = RouteDataReadyInput.safeParse({ environment, dataset, partition: value });
  // The hook checks only the partition (the worker checks the names, which it owns).
  const partitionRefused = !input.success && input.error.issues.some((i) => i.path[0] === 'partition');
  return {
    format: partitionFormatOf(value) ?? null,
    accepted: Partition.safeParse(value).success,
    hook: partitionRefused
      ? 'refused:InvalidInput'
      : routeDataReadyId({ environment, dataset, partition: value as string }),
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Characters that break a partition in ways regex engines disagree on (other scripts' digits, line ends). */
const odd = ['٢', '٠', '０', '５', '𝟘', '०', 'T', 't', ' ', '\n', '\r', '-', ':', '+', 'Z', '\u2028', 'é'];
const year = fc.oneof(
  fc.integer({ min: 0, max: 9999 }).map((n) => pad(n, 4)),
  fc.constantFrom('0000', '0001', '0004', '0100', '1900', '2000', '2024', '2026', '2100', '9999'),
  fc.integer({ min: 0, max: 99999 }).map(String),
);
const two = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => pad(n, 2));
/** Shapes of each format from around the calendar's edges: months 00–13, days 00–32, hours 00–25. */
const shaped = fc
  .tuple(year, two(0, 13), two(0, 32), two(0, 25), fc.constantFrom('monthly', 'daily', 'hourly'))
  .map(([y, m, d, h, format]) =>
    format === 'monthly' ? `${y}-${m}` : format === 'daily' ? `${y}-${m}-${d}` : `${y}-${m}-${d}T${h}`,
  );
/** A shaped value with one character replaced, inserted, or added at either end. */
const mutated = fc
  .tuple(shaped, fc.nat(), fc.constantFrom(...odd), fc.constantFrom('replace', 'insert', 'prefix', 'suffix'))
  .map(([s, at, c, how]) => {
    const i = at % s.length;
    if (how === 'replace') return s.slice(0, i) + c + s.slice(i + 1);
    if (how === 'insert') return s.slice(0, i) + c + s.slice(i);
    return how === 'prefix' ? c + s : s + c;
  });
const value: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: shaped, weight: 6 },
  { arbitrary: mutated, weight: 3 },
  { arbitrary: fc.string({ maxLength: 14, unit: fc.constantFrom(...'0123456789-T', ...odd) }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 14, unit: 'binary' }), weight: 1 },
  {
    arbitrary: fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constantFrom(null, 2026.5, [], {}, ['2026-11-21'], { partition: '2026-11-21' }),
    ),
    weight: 1,
  },
);
const name = fc.oneof(
  fc.constantFrom('staging', 'prod', 'instagram_posts'),
  fc.string({ maxLength: 12, unit: 'binary' }),
);
const cases = fc.record({ value, environment: name, dataset: name });

test('the Python partition rule and hook agree with contracts/partition.ts on every generated case', () => {
  if (!existsSync(python)) throw new Error(`no Airflow venv at ${python}: run \`bash scripts/airflow/setup.sh\` first`);
  const fixed: Case[] = [
    '2026-11-21',
    '2026-11-21T07',
    '2026-11',
    '2026-02-30',
    '2024-02-29',
    '1900-02-29',
    '2000-02-29',
    '0004-02-29',
    '0000-01',
    '2026-11-21T24',
    '2026-11-21\n',
    '２０２６-11-21',
    '',
    null,
    20261121,
  ].map((v) => ({ value: v, environment: 'staging', dataset: 'instagram_posts' }));
  const all = [...fixed, ...fc.sample(cases, { numRuns: 5000, seed: SEED })];

  const ts = all.map(tsVerdict);
  const py = pythonVerdicts(all);
  const differing = all
    .map((c, i) => ({ case: c, ts: ts[i], python: py[i] }))
    .filter((d) => JSON.stringify(d.ts) !== JSON.stringify(d.python));
  expect(differing.slice(0, 10)).toEqual([]);
  expect(py).toEqual(ts);

  // Enough of each kind that the agreement means something.
  for (const format of ['daily', 'hourly', 'monthly', null])
    expect(ts.filter((v) => v.format === format).length).toBeGreaterThan(300);
  expect(ts.filter((v) => v.hook.startsWith('data-ready:')).length).toBeGreaterThan(1000);
  expect(ts.filter((v) => v.hook === 'refused:InvalidInput').length).toBeGreaterThan(1000);
  expect(all.filter((c) => typeof c.value !== 'string').length).toBeGreaterThan(100);
});
