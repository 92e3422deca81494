// `ct deploy check` replays what a namespace runs (and saved histories) against a workflow bundle
// before a deploy: the current bundle passes; a careless edit (test/fixtures/nondeterministic) is
// caught with the workflow ids, and the command exits non-zero.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runCli } from '../../client/cli/program';
import { loadBundle, namespaceHistories, replayAll, workflowTypes } from '../../client/deploy-check';
import { releaseSignal, statusQuery } from '../../contracts';
import type { stackCheck } from '../../workflows';
import { historiesDir } from '../helpers/histories';
import { uniqueId, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { testStack } from '../setup/test-stack';

jest.setTimeout(120_000);

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
let carelessBundle: string;
beforeAll(async () => {
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', 'fixtures', 'nondeterministic', 'workflows.ts'),
    logger: silent,
  });
  carelessBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-deploy-')), 'workflow-bundle.js');
  writeFileSync(carelessBundle, bundle.code);
});

test('the check knows every workflow type the worker registers', () => {
  const index = readFileSync(path.join(__dirname, '..', '..', 'workflows', 'index.ts'), 'utf8');
  const registered = /^export \{([^}]+)\};$/m
    .exec(index)![1]!
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  expect([...workflowTypes].sort()).toEqual(registered.sort());
});

test('a run in flight replays on the current bundle and fails on a careless edit, named by its workflow id', async () => {
  await withWorker(async (ctx) => {
    const workflowId = uniqueId('deploy-check');
    const handle = await ctx.client.workflow.start<typeof stackCheck>('stackCheck', {
      taskQueue: ctx.taskQueue,
      workflowId,
      args: [{ bucket: testStack().CT_TEST_GCS_BUCKET, holdSeconds: 600 }],
    });
    await eventually(async () => ((await handle.query(statusQuery)).phase === 'holding' ? true : undefined));
    const options = { since: new Date(Date.now() - 3_600_000), perType: 5, filter: `WorkflowId = '${workflowId}'` };
    // Visibility lists the run a moment after it started.
    const targets = await eventually(async () => {
      const found = await namespaceHistories(ctx.client, options);
      return found.length ? found : undefined;
    });
    expect(targets.map((t) => [t.workflowId, t.workflowType])).toEqual([[workflowId, 'stackCheck']]);

    expect(await replayAll(targets, { codePath: testStack().CT_TEST_WORKFLOW_BUNDLE })).toEqual({
      replayed: 1,
      byType: { stackCheck: 1 },
      failures: [],
    });
    const careless = await replayAll(targets, await loadBundle(carelessBundle));
    expect(careless.failures.map((f) => [f.workflowId, f.workflowType])).toEqual([[workflowId, 'stackCheck']]);
    expect(careless.failures[0]!.error).toMatch(/[Nn]ondeterminism/);
    await handle.signal(releaseSignal, { by: 'deploy-check' });
    await handle.result();
  });
});

test('ct deploy check: the committed histories pass on the current bundle; on a careless edit it exits 1 naming the runs', async () => {
  const run = async (bundle: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['deploy', 'check', '--histories', historiesDir, '--bundle', bundle], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const files = readdirSync(historiesDir).filter((f) => f.endsWith('.json'));
  const good = await run(testStack().CT_TEST_WORKFLOW_BUNDLE);
  expect(good).toMatchObject({ code: 0, err: '' });
  expect(good.out).toContain(`replayed ${files.length} histories`);
  const bad = await run(carelessBundle);
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/✗ stackCheck stack-check-signalled .*[Nn]ondeterminism/);
  expect(bad.err).toMatch(/^ct: \d+ of \d+ histories do not replay on this bundle: .*stack-check-signalled/);
});
