// The CI-sized soak (`npm run soak -- --ci`): a five-day season in about two minutes on `npm run
// stack:prod`, with Vertex faults, workers SIGKILLed every 30 s, the Temporal server and PostgreSQL
// each killed once, and the workers deployed blue-green mid-season from the previous workflow code
// to this build — and every invariant the checker states holds afterwards. The driver runs as its
// own process, as `npm run soak` does, on the worker and workflow bundle the global setup built.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SoakResult } from '../../bench/soak/result';
import { repoRoot } from '../../stack/tools';
import { testStack } from '../setup/test-stack';

jest.setTimeout(480_000);

let result: SoakResult;
let output = '';
let driver: ChildProcess | undefined;

// A soak cut short (the suite's timeout) is interrupted as a Ctrl-C would: it stops its stack.
afterAll(async () => {
  if (driver && driver.exitCode === null && driver.signalCode === null) {
    const closed = new Promise((resolve) => driver!.once('close', resolve));
    driver.kill('SIGINT');
    await closed;
  }
}, 120_000);

beforeAll(async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ct-soak-ci-'));
  // Without the test stack's Temporal and ct variables: the soak starts its own topology.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_)/.test(k)));
  const child = (driver = spawn(
    path.join(repoRoot, 'node_modules', '.bin', 'node'),
    ['--import', 'tsx', 'bench/soak/driver.ts', '--ci', '--no-build', '--out', out],
    {
      cwd: repoRoot,
      env: { ...base, NODE_OPTIONS: '', CT_WORKFLOW_BUNDLE: testStack().CT_TEST_WORKFLOW_BUNDLE },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  ));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    result = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')) as SoakResult;
  } catch {
    throw new Error(`npm run soak -- --ci wrote no result (exit ${code}):\n${output.slice(-6000)}`);
  }
  console.log(output);
}, 470_000);

test('every invariant holds after the CI-sized season, naming no offending id', () => {
  const broken = result.invariants.filter((i) => !i.ok).map((i) => ({ name: i.name, offending: i.offending }));
  expect(broken).toEqual([]);
  expect(result.invariants.length).toBeGreaterThanOrEqual(3);
});

test('no run is left open after the drain, and the stack stops cleanly on Ctrl-C', () => {
  expect(result.runs.stuck).toEqual([]);
  expect(result.stack.stoppedCleanly).toBe(true);
  expect(result.ok).toBe(true);
});

test('the season went through the faults it claims: every Vertex fault kind, worker, server and PostgreSQL kills', () => {
  const kinds = [
    'vertex:lost-create',
    'vertex:late-create',
    'vertex:429-storm',
    'vertex:job-failed',
    'vertex:job-paused',
    'vertex:job-expired',
    'vertex:slow-list',
    'vertex:stale-list',
    'process:temporal-server-sigkill',
    'process:postgres-sigkill',
    'deploy:blue-green',
  ];
  expect(kinds.filter((k) => !result.faults[k])).toEqual([]);
  expect(result.faults['process:worker-sigkill']).toBeGreaterThanOrEqual(3);
  // The supervisor brought every killed service back (the stack reported each as [restart] … is back).
  expect(result.problems.filter((p) => /restarting|did not report it back/.test(p))).toEqual([]);
});

test('the season did what a season does: data-ready (late and duplicate), training, predictions, cancels, approvals, schedules', () => {
  expect(result.dataReady.late).toBeGreaterThan(0);
  expect(result.dataReady.duplicate).toBeGreaterThan(0);
  expect(result.runs.byType).toMatchObject({
    trainingRun: expect.any(Number) as number,
    predictionRun: expect.any(Number) as number,
    predictionSegment: expect.any(Number) as number,
    scheduledRun: expect.any(Number) as number,
    routeDataReady: expect.any(Number) as number,
  });
  expect(Object.values(result.operators.cancels).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(Object.values(result.operators.approvals).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(result.jobs.total).toBeGreaterThan(0);
  // 3 workers of the build the season started on, 3 of this one (worker-4 …) from the deploy on.
  expect(result.growth.processes.filter((p) => p.service.startsWith('worker-')).length).toBe(6);
});

test('mid-season, the workers were deployed blue-green to this build: made current, the old ones stopped once drained, runs in flight carried across', () => {
  const deploy = result.deploy!;
  expect(deploy.state).toBe('done');
  expect(deploy.to.buildId).not.toBe(deploy.from.buildId);
  expect(Object.keys(deploy.steps)).toEqual(
    expect.arrayContaining(['starting', 'switching', 'draining', 'retiring', 'done']),
  );
  // Runs that started on the old build and went on on this one (AUTO_UPGRADE), their invariants held above.
  expect(deploy.runsAcross.trainingRun).toBeGreaterThan(0);
  expect(deploy.histories.length).toBeGreaterThan(0);
});
