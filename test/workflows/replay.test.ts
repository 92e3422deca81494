// Replays every committed history in test/histories/ against the current workflow code. A change
// that would break runs already in flight (a different command sequence) fails here; make it
// safe with patched(), then refresh histories with `CT_SAVE_HISTORIES=1 npm test`.
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { childStartWaves } from '../helpers/child-waves';
import { loadSavedHistories } from '../helpers/histories';
import { testStack } from '../setup/test-stack';

const histories = loadSavedHistories();

test('committed histories exist for the workflows', () => {
  expect(histories.map((h) => h.name)).toEqual(
    expect.arrayContaining([
      'stack-check-signalled',
      'training-run-succeeded',
      'training-run-cancelled',
      'training-run-published',
      'training-run-approved',
      'wait-for-model-announced',
      'prediction-run-succeeded',
      'prediction-segment-partial',
      'training-fanout-succeeded',
      'scheduled-run-failed',
      'flag-watch-terminated',
      'training-run-job-memo',
      'training-run-across-deploy',
      'prediction-run-waves',
    ]),
  );
});

test('every committed history replays against the current workflow code', async () => {
  const results = Worker.runReplayHistories(
    { workflowBundle: { codePath: testStack().CT_TEST_WORKFLOW_BUNDLE } },
    histories,
  );
  const failures: string[] = [];
  for await (const r of results) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  expect(failures).toEqual([]);
});

test('the harness catches a non-deterministic change', async () => {
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', 'fixtures', 'nondeterministic', 'workflows.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const signalled = histories.find((h) => h.name === 'stack-check-signalled')!;
  await expect(
    Worker.runReplayHistory({ workflowBundle: bundle }, signalled.history, signalled.workflowId),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});

/** The patches a history's markers record, and its memo upserts. */
function patchesAndMemos(history: temporal.api.history.v1.IHistory): { patches: string[]; memoUpserts: number } {
  const events = history.events ?? [];
  const patches = events.flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    const data = m?.markerName === 'core_patch' ? m.details?.['patch-data']?.payloads?.[0] : undefined;
    return data ? [defaultPayloadConverter.fromPayload<{ id: string }>(data).id] : [];
  });
  return { patches, memoUpserts: events.filter((e) => e.workflowPropertiesModifiedEventAttributes).length };
}

test('the Vertex job memo is patched: runs recorded before it replay without the memo, runs after with it', () => {
  // Recorded before the change (each submitted a job): no marker, no memo upsert; every history
  // replaying above proves the current code takes the unpatched branch for them.
  for (const name of ['training-run-succeeded', 'training-run-cancelled', 'training-run-published']) {
    const before = patchesAndMemos(histories.find((h) => h.name === name)!.history);
    expect({ name, ...before, patches: before.patches.includes('vertex-job-memo') }).toEqual({
      name,
      patches: false,
      memoUpserts: 0,
    });
  }
  // Recorded with it (test/training/job-memo.test.ts): the marker, and one memo upsert per attempt.
  const after = patchesAndMemos(histories.find((h) => h.name === 'training-run-job-memo')!.history);
  expect(after.patches).toContain('vertex-job-memo');
  expect(after.memoUpserts).toBe(2);
});

test('children in waves are patched: prediction runs recorded before replay their one burst, runs after start in waves', () => {
  const waves = (name: string) => {
    const { history } = histories.find((h) => h.name === name)!;
    return {
      patched: patchesAndMemos(history).patches.includes('prediction-run-starts-in-waves'),
      most: Math.max(...childStartWaves(history.events ?? [])),
    };
  };
  expect(waves('prediction-run-succeeded').patched).toBe(false);
  // Recorded with it (test/prediction/start-waves.test.ts): 110 children, at most 100 per task.
  expect(waves('prediction-run-waves')).toEqual({ patched: true, most: 100 });
});

test('a run carried across a blue-green deploy replays: its first job submitted on the old build without the memo, the next one with it', () => {
  // Kept by the CI soak's deploy (docs/soak.md): attempt 1 on the build before the memo, attempt 2
  // submitted there and seen through on this one, which took the patched branch.
  const { history } = histories.find((h) => h.name === 'training-run-across-deploy')!;
  const steps = (history.events ?? []).flatMap((e) => {
    const build = e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId;
    if (build) return [`task@${build}`];
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitTrainingJob') return ['submit'];
    if (e.workflowPropertiesModifiedEventAttributes) return ['memo'];
    return [];
  });
  const builds = [...new Set(steps.filter((s) => s.startsWith('task@')))];
  expect(builds).toHaveLength(2);
  const [oldBuild, newBuild] = builds;
  const firstNew = steps.indexOf(newBuild!);
  // Both jobs were submitted before the switch; only the new build upserted the memo.
  expect(steps.slice(0, firstNew).filter((s) => s === 'submit')).toHaveLength(2);
  expect(steps.slice(0, firstNew)).not.toContain('memo');
  expect(steps.slice(firstNew).filter((s) => s === 'memo')).toHaveLength(1);
  expect(steps.slice(firstNew)).not.toContain(oldBuild);
  expect(patchesAndMemos(history).patches).toContain('vertex-job-memo');
});
