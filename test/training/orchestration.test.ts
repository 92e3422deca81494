// The training run's orchestration branches, on the real dev server with stubbed activities (the
// plan and Vertex's answers are scripted in test/helpers/stub-activities.ts): attempts, PAUSED, the
// data timeout and the approval timeout, each in seconds. What Vertex and the registry do on those
// branches is tested end to end in training/run.test.ts and model/approval.test.ts.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { RunPlan, TrainingRunResult } from '../../contracts';
import type { trainingRun } from '../../workflows';
import {
  scriptedTrainingJobs,
  sequence,
  stubModelPlan,
  stubPlan,
  stubRun,
  withStubbedWorker,
  type Call,
  type StubbedActivities,
} from '../helpers/stub-activities';

type Run = ReturnType<typeof stubRun>;

/** Starts `run` on a stubbed worker whose resolveTrainingRun returns `plan`; the run's result or failure. */
async function runWith(
  run: Run,
  plan: RunPlan,
  activities: StubbedActivities,
  during?: (client: Client) => Promise<void>,
): Promise<{ result?: TrainingRunResult; failure?: ApplicationFailure }> {
  return withStubbedWorker(
    { resolveTrainingRun: () => Promise.resolve(plan), ...activities },
    async ({ client, taskQueue }) => {
      const { workflowId, ...input } = run;
      const handle = await client.workflow.start<typeof trainingRun>('trainingRun', {
        workflowId,
        taskQueue,
        args: [input],
      });
      await during?.(client);
      try {
        return { result: await handle.result() };
      } catch (err) {
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = (err as WorkflowFailedError).cause;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        return { failure: cause as ApplicationFailure };
      }
    },
  );
}

describe('attempts', () => {
  test('a failed attempt is retried as the next planned job; the run succeeds on the attempt that does', async () => {
    const run = stubRun();
    const plan = stubPlan(run, { maxAttempts: 3 });
    const calls: Call[] = [];
    const { result } = await runWith(run, plan, scriptedTrainingJobs(['FAILED', 'SUCCEEDED'], calls));
    expect(result).toMatchObject({ status: 'succeeded', attempts: 2, outputs: plan.attempts![1]!.outputs });
    expect(sequence(calls)).toEqual([
      `submitTrainingJob {"attempt":1,"jobId":"${plan.attempts![0]!.jobId}"}`,
      'awaitTrainingJob {"attempt":1,"state":"FAILED"}',
      `submitTrainingJob {"attempt":2,"jobId":"${plan.attempts![1]!.jobId}"}`,
      'awaitTrainingJob {"attempt":2,"state":"SUCCEEDED"}',
    ]);
  });

  test('every attempt up to the limit fails (FAILED, EXPIRED, CANCELLED): no further job, the run fails with the last', async () => {
    const run = stubRun();
    const calls: Call[] = [];
    const { failure } = await runWith(
      run,
      stubPlan(run, { maxAttempts: 3 }),
      scriptedTrainingJobs(['FAILED', 'EXPIRED', 'CANCELLED', 'SUCCEEDED'], calls),
    );
    expect(failure?.type).toBe('TrainingJobFailed');
    expect(failure?.message).toBe(
      `training failed after 3 attempt(s); last job projects/1/locations/us-central1/customJobs/${run.pipeline}-job-3 ended CANCELLED`,
    );
    expect(calls.filter((c) => c.activity === 'submitTrainingJob')).toHaveLength(3);
    expect(calls.filter((c) => c.activity === 'cancelTrainingJob')).toEqual([]);
  });
});

test('PAUSED is not success: the paused job is cancelled before the next attempt is submitted', async () => {
  const run = stubRun();
  const calls: Call[] = [];
  const { result } = await runWith(run, stubPlan(run, { maxAttempts: 2 }), scriptedTrainingJobs(['PAUSED'], calls));
  expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
  expect(sequence(calls).slice(1, 4)).toEqual([
    'awaitTrainingJob {"attempt":1,"state":"PAUSED"}',
    'cancelTrainingJob {"attempt":1}',
    `submitTrainingJob {"attempt":2,"jobId":"${run.pipeline}-job-2"}`,
  ]);
});

describe('data that never comes', () => {
  const waiting = (run: Run, onDataTimeout: RunPlan['onDataTimeout']) =>
    stubPlan(run, { datasets: ['late_data'], dataTimeoutMs: 1_000, onDataTimeout });

  test('onTimeout fail: the run fails DataTimeout naming what it still waits for; nothing is submitted', async () => {
    const run = stubRun({ assumeDataReady: false });
    const calls: Call[] = [];
    const { failure } = await runWith(run, waiting(run, 'fail'), scriptedTrainingJobs([], calls));
    expect(failure?.type).toBe('DataTimeout');
    expect(failure?.message).toBe(
      `data for partition ${run.partition} not ready after 1s; still waiting for late_data`,
    );
    expect(calls).toEqual([]);
  });

  test('onTimeout skip: the run ends skipped with the reason; nothing is submitted', async () => {
    const run = stubRun({ assumeDataReady: false });
    const calls: Call[] = [];
    const { result } = await runWith(run, waiting(run, 'skip'), scriptedTrainingJobs([], calls));
    expect(result).toMatchObject({
      status: 'skipped',
      attempts: 0,
      reason: `data for partition ${run.partition} not ready after 1s; still waiting for late_data`,
    });
    expect(calls).toEqual([]);
  });
});

describe('approval nobody gives', () => {
  /** The model step's services: a candidate that passes, registered as version 1; promotions recorded. */
  const registry = (calls: Call[]): StubbedActivities => ({
    readMetrics: () => Promise.resolve({ auc: 0.9 }),
    findChampion: () => Promise.resolve(null),
    registerCandidate: (req) =>
      Promise.resolve({
        model: `projects/1/locations/${req.region}/models/${req.modelId}`,
        versionId: '1',
        reused: false,
        consoleUrl: 'https://console.invalid/model',
      }),
    promoteVersion: ({ aliases }) => {
      calls.push({ activity: 'promoteVersion', args: aliases });
      return Promise.resolve();
    },
    announceModel: () => Promise.resolve({ consumersTold: 0 }),
  });
  const silent = (onTimeout: 'reject' | 'promote') =>
    stubModelPlan({ promotion: { mode: 'approval', timeoutMs: 1_000, onTimeout } });

  test('onTimeout reject: after the timeout the candidate is rejected and never promoted', async () => {
    const run = stubRun();
    const calls: Call[] = [];
    const { result } = await runWith(run, stubPlan(run, { model: silent('reject') }), {
      ...scriptedTrainingJobs([], calls),
      ...registry(calls),
    });
    expect(result).toMatchObject({
      status: 'rejected',
      reason: 'rejected: no decision within 1s; the config says reject',
      approval: { decision: 'timed-out' },
      model: { version: '1', aliases: ['candidate'] },
    });
    expect(calls.filter((c) => c.activity === 'promoteVersion')).toEqual([]);
  });

  test('onTimeout promote: after the timeout the candidate becomes champion', async () => {
    const run = stubRun();
    const calls: Call[] = [];
    const { result } = await runWith(run, stubPlan(run, { model: silent('promote') }), {
      ...scriptedTrainingJobs([], calls),
      ...registry(calls),
    });
    expect(result).toMatchObject({
      status: 'succeeded',
      approval: { decision: 'timed-out' },
      model: { version: '1', aliases: ['candidate', 'champion'] },
    });
    expect(calls.filter((c) => c.activity === 'promoteVersion')).toEqual([
      { activity: 'promoteVersion', args: ['champion'] },
    ]);
  });
});
