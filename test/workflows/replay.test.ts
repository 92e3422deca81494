// Replays every committed history in test/histories/ against the current workflow code. A change
// that would break runs already in flight (a different command sequence) fails here; make it
// safe with patched(), then refresh histories with `CT_SAVE_HISTORIES=1 npm test`.
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
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
