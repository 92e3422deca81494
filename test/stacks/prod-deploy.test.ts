// A blue-green deploy on a versioned `npm run stack:prod` (CT_DEPLOYMENT_NAME), as an operator
// makes it with `npm run stack:prod:deploy` (stack/blue-green.ts): build B's workers start beside
// build A's and B is made current; A's workers stay while a run is pinned to A — one that dies
// meanwhile comes back on A — and once that run has ended on A they are stopped for good.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleBuildId } from '../../config/build-id';
import { releaseSignal, statusQuery } from '../../contracts';
import { readLock } from '../../stack/lock';
import { repoRoot } from '../../stack/tools';
import type { stackCheck } from '../../workflows';
import { bundleBuildB } from '../helpers/build-b';
import { eventually } from '../helpers/eventually';
import { prodStackEnv, startProdStack } from '../helpers/prod-stack';
import { pidsAlive } from '../helpers/stack-process';
import { testStack } from '../setup/test-stack';

jest.setTimeout(600_000);

const TASK_QUEUE = 'ct-coordinator';

/** `npm run stack:prod:deploy -- --bundle <bundle> --json` against the stack on `dataDir`. */
function deploy(dataDir: string, bundle: string) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_)/.test(k)));
  const child = spawn(
    path.join(repoRoot, 'node_modules', '.bin', 'node'),
    ['--import', 'tsx', 'scripts/prod-deploy.ts', '--bundle', bundle, '--json'],
    { cwd: repoRoot, env: { ...base, NODE_OPTIONS: '', CT_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, out, err })),
  );
}

test('stack:prod:deploy: B current beside A; A’s workers stay (restarted on A) while a run is pinned to A, then stop for good', async () => {
  const env: Record<string, string> = { ...(await prodStackEnv()), CT_DEPLOYMENT_NAME: 'ct-deploy-test' };
  const dataDir = env.CT_DATA_DIR!;
  const bundleB = await bundleBuildB();
  const [a, b] = [bundleBuildId(testStack().CT_TEST_WORKFLOW_BUNDLE), bundleBuildId(bundleB)];
  const lockFile = path.join(dataDir, 'prod', 'stack.lock');
  const run = startProdStack(env);
  let connection: Connection | undefined;
  try {
    const banner = await run.banner();
    expect(banner).toContain(`version ct-deploy-test:${a} (current)`);
    const pidsA = /pids (\d+), (\d+), (\d+)$/m.exec(banner)!.slice(1).map(Number);
    expect(readLock(lockFile)?.deployment).toMatchObject({
      current: a,
      workers: { 'worker-1': a, 'worker-2': a, 'worker-3': a },
    });
    connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_PORT!}` });
    const client = new Client({ connection, namespace: 'ct-coordinator' });

    // A run pinned to A (stackCheck is PINNED: workflows/index.ts), holding until released.
    const pinned = await client.workflow.start<typeof stackCheck>('stackCheck', {
      taskQueue: TASK_QUEUE,
      workflowId: 'deploy-test-pinned',
      args: [{ bucket: 'ct-local', holdSeconds: 600 }],
    });
    await eventually(async () => ((await pinned.query(statusQuery)).phase === 'holding' ? true : undefined), 60_000);

    const deployed = deploy(dataDir, bundleB);
    // Past the switch, the deploy waits for the pinned run.
    const switched = ['draining', 'retiring', 'done', 'failed'];
    await eventually(
      () => switched.includes(readLock(lockFile)?.deployment?.deploy?.state ?? '') || undefined,
      180_000,
    );
    expect(readLock(lockFile)?.deployment?.deploy?.state).toBe('draining');
    expect(readLock(lockFile)?.deployment).toMatchObject({
      current: b,
      workers: { 'worker-1': a, 'worker-4': b, 'worker-5': b, 'worker-6': b },
    });
    // New runs go to B. The server answers SetCurrentVersion before matching's partitions route by
    // it (its routingConfigUpdateState stayed IN_PROGRESS for minutes in the soak, so the deploy does
    // not wait on it), so a run started in that moment may still run on A: harmless, A keeps its
    // workers until its pinned runs end. Within seconds every new run is B's.
    let fresh = 0;
    await eventually(async () => {
      const builds = await Promise.all(
        [0, 1, 2].map(() =>
          client.workflow.execute<typeof stackCheck>('stackCheck', {
            taskQueue: TASK_QUEUE,
            workflowId: `deploy-test-fresh-${fresh++}`,
            args: [{ bucket: 'ct-local', holdSeconds: 0 }],
          }),
        ),
      );
      return builds.every((r) => (r as { build?: string }).build === 'B') || undefined;
    }, 30_000);

    // A worker of A that dies while A drains comes back on A.
    process.kill(pidsA[0]!, 'SIGKILL');
    const back = await eventually(
      () => /\[restart\] \S+ worker-1 is back \(pid (\d+)/.exec(run.output())?.[1],
      120_000,
    ).then(Number);
    const environ = readFileSync(`/proc/${back}/environ`, 'utf8').split('\0');
    expect(environ).toEqual(expect.arrayContaining([`CT_BUILD_ID=${a}`]));
    // Still draining: the pinned run is open.
    expect(readLock(lockFile)?.deployment?.deploy?.state).toBe('draining');

    // Released, the pinned run ends on A; then A's workers are stopped, and stay stopped.
    await pinned.signal(releaseSignal, { by: 'deploy-test' });
    expect((await pinned.result()).releasedBy).toBe('deploy-test');
    expect((await pinned.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion).toMatchObject({
      buildId: a,
    });
    const result = await deployed;
    expect(result.code).toBe(0);
    const status = JSON.parse(result.out) as { state: string; from: string; to: string; at: Record<string, string> };
    expect(status).toMatchObject({ state: 'done', from: a, to: b });
    expect(Date.parse(status.at.retiring!)).toBeGreaterThan(Date.parse(status.at.draining!));
    expect(pidsAlive([back, pidsA[1]!, pidsA[2]!])).toEqual([]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(run.output().match(/worker-[123] \(pid \d+\) exited unexpectedly/g)).toHaveLength(1);
    expect(readLock(lockFile)?.deployment).toEqual(
      expect.objectContaining({ current: b, workers: { 'worker-4': b, 'worker-5': b, 'worker-6': b } }),
    );
    expect(run.output()).toMatch(/\[deploy\] \S+ deployed build /);
  } finally {
    await connection?.close();
    await run.ctrlC();
  }
});
