// The training run end to end: real worker and dev server, the Vertex AI emulator through the real
// aiplatform client, fake-gcs-server. Each test uses a partition of its own, so runs, emulator
// rules and jobs of parallel tests never meet.
import { WorkflowFailedError } from '@temporalio/client';
import { type ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { sendDataReady, startTrainingRun, TrainingRequestError } from '../../client/training';
import { trainingRunId, trainingStatusQuery, type TrainingRunResult } from '../../contracts';
import type { trainingRun } from '../../workflows';
import { maybeSaveHistory } from '../helpers/histories';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import {
  customJobTraining,
  dailyData,
  kfpTrainingPerSegment,
  monthlyData,
  projectWith,
  snsData,
  snsSegments,
} from '../helpers/pipelines';
import { uniqueId, withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';

const { EventType } = temporal.api.enums.v1;
const control = emulatorControl();

// Each test in a Vertex project of its own: its rules, faults and jobs meet no other test's. Two
// pipelines, two attempts each: `engagement` (a PipelineJob per segment, jp-instagram, jp-youtube
// and us-instagram, each waiting for its SNS posts and user_profiles) and `churn` (a CustomJob on
// monthly creator_activity).
let iso: IsolatedProject;
let config: IsolatedProject['config'];
beforeEach(() => {
  iso = projectWith({
    engagement: { data: snsData, training: kfpTrainingPerSegment, segments: snsSegments, retry: { maxAttempts: 2 } },
    churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
  });
  config = iso.config;
});
afterEach(() => iso.cleanup());
const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withWorker(fn, { project: iso });

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure | CancelledFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

const handleOf = (
  ctx: WorkerContext,
  id: { pipeline: string; environment: string; partition: string; segment?: string },
) => ctx.client.workflow.getHandle<typeof trainingRun>(trainingRunId(id));

test('happy path: data-ready starts the runs it concerns, a duplicate changes nothing, one PipelineJob trains', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    const opts = { taskQueue: ctx.taskQueue };
    const first = await sendDataReady(
      ctx.client,
      config,
      { environment: 'staging', dataset: 'instagram_posts', partition, uri: 'gs://lake/ig', source: 'test' },
      opts,
    );
    expect(first.reached.map((r) => [r.segment, r.accepted, r.waitingFor])).toEqual([
      ['jp-instagram', true, ['user_profiles']],
      ['us-instagram', true, ['user_profiles']],
    ]);
    const again = await sendDataReady(
      ctx.client,
      config,
      { environment: 'staging', dataset: 'instagram_posts', partition },
      opts,
    );
    expect(again.reached.map((r) => r.accepted)).toEqual([false, false]);

    const profiles = await sendDataReady(
      ctx.client,
      config,
      { environment: 'staging', dataset: 'user_profiles', partition },
      opts,
    );
    expect(profiles.reached.map((r) => r.segment)).toEqual(['jp-instagram', 'jp-youtube', 'us-instagram']);
    expect(profiles.reached.find((r) => r.segment === 'jp-youtube')?.waitingFor).toEqual(['youtube_posts']);

    const handle = handleOf(ctx, {
      pipeline: 'engagement',
      environment: 'staging',
      partition,
      segment: 'jp-instagram',
    });
    const result: TrainingRunResult = await handle.result();
    expect(result).toMatchObject({
      status: 'succeeded',
      pipeline: 'engagement',
      segment: 'jp-instagram',
      partition,
      attempts: 1,
    });
    expect(result.job).toMatchObject({ kind: 'pipelineJob', state: 'SUCCEEDED', attempt: 1 });
    expect(result.job!.name).toMatch(
      /^projects\/\d{12}\/locations\/us-central1\/pipelineJobs\/engagement-jp-instagram-/,
    );
    expect(result.job!.consoleUrl).toContain(`/pipelines/runs/${result.job!.id}?project=${iso.project}`);
    expect(result.outputs!.metricsUri).toBe(`gs://ct-test-bucket/root/staging/${result.job!.id}/metrics.json`);
    const [metrics] = await ctx.storage
      .bucket('ct-test-bucket')
      .file(`root/staging/${result.job!.id}/metrics.json`)
      .download();
    expect(JSON.parse(metrics.toString())).toHaveProperty('auc');

    const jobs = await control.jobs({
      kind: 'pipelineJob',
      project: iso.project,
      labels: { 'ct-partition': partition, 'ct-segment': 'jp-instagram' },
    });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.labels).toMatchObject({
      'ct-pipeline': 'engagement',
      'ct-environment': 'staging',
      team: 'ml-platform',
    });
    const status = await handle.query(trainingStatusQuery);
    expect(status.datasets.map((d) => [d.dataset, d.ready])).toEqual([
      ['instagram_posts', true],
      ['user_profiles', true],
    ]);
    expect(status.datasets[0]!.uri).toBe('gs://lake/ig');
    await maybeSaveHistory(handle, 'training-run-succeeded');

    // The search attributes find the run by what an operator knows.
    await eventually(async () => {
      const found: string[] = [];
      for await (const w of ctx.client.workflow.list({
        query: `partition = "${partition}" AND segment = "jp-instagram" AND runPhase = "succeeded"`,
      }))
        found.push(w.workflowId);
      return found.length === 1 ? found : undefined;
    });

    // jp-youtube still waits for youtube_posts (holding no job): a cancel ends that wait as Cancelled.
    const waiting = handleOf(ctx, { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' });
    expect((await waiting.query(trainingStatusQuery)).phase).toBe('waiting-for-data');
    await waiting.cancel();
    expect(await failureOf(waiting.result())).toBeInstanceOf(CancelledFailure);
    expect((await waiting.query(trainingStatusQuery)).phase).toBe('cancelled');
  });
});

test('a CustomJob run trains and reports its base output directory', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition('monthly');
    const report = await sendDataReady(
      ctx.client,
      config,
      { environment: 'staging', dataset: 'creator_activity', partition },
      { taskQueue: ctx.taskQueue },
    );
    expect(report.reached).toHaveLength(1);
    const result = await handleOf(ctx, { pipeline: 'churn', environment: 'staging', partition }).result();
    expect(result).toMatchObject({ status: 'succeeded', job: { kind: 'customJob', state: 'SUCCEEDED' } });
    expect(result.job!.id).toMatch(/^\d{19}$/);
    expect(result.outputs!.outputDirectory).toBe(`gs://ct-test-bucket/custom/churn/${partition}`);
    const [exists] = await ctx.storage.bucket('ct-test-bucket').file(`custom/churn/${partition}/metrics.json`).exists();
    expect(exists).toBe(true);
  });
});

test.each(['fail', 'skip'] as const)('data that never comes: onTimeout %s', async (onTimeout) => {
  // A pipeline of the test's own: it waits 2 s for late_data, which never comes.
  const impatient = projectWith({
    impatient: { data: dailyData(['late_data'], '2s', onTimeout), training: customJobTraining },
  });
  try {
    await withWorker(
      async (ctx) => {
        const partition = uniquePartition();
        const handle = await startTrainingRun(
          ctx.client,
          impatient.config,
          { pipeline: 'impatient', environment: 'staging', partition },
          { taskQueue: ctx.taskQueue },
        );
        const reason = `data for partition ${partition} not ready after 2s; still waiting for late_data`;
        if (onTimeout === 'skip') {
          expect(await handle.result()).toMatchObject({ status: 'skipped', reason });
        } else {
          const cause = (await failureOf(handle.result())) as ApplicationFailure;
          expect(cause.type).toBe('DataTimeout');
          expect(cause.message).toBe(reason);
        }
        expect(await control.jobs({ project: impatient.project })).toEqual([]);
      },
      { project: impatient },
    );
  } finally {
    await impatient.cleanup();
  }
});

test('a FAILED job is retried as a new job; when every attempt fails the run fails with Vertex’s message', async () => {
  await inProject(async (ctx) => {
    const [p1, p2] = [uniquePartition(), uniquePartition()];
    await control.addRule({
      match: { project: iso.project, labels: { 'ct-partition': p1 } },
      script: { outcome: 'FAILED', error: { code: 9, message: 'OOM in trainer' } },
      times: 1,
    });
    await control.addRule({
      match: { project: iso.project, labels: { 'ct-partition': p2 } },
      script: { outcome: 'FAILED', error: { code: 9, message: 'OOM in trainer' } },
    });
    const start = (partition: string) =>
      startTrainingRun(
        ctx.client,
        config,
        { pipeline: 'engagement', environment: 'staging', partition, segment: 'us-instagram', assumeDataReady: true },
        { taskQueue: ctx.taskQueue },
      );
    const [h1, h2] = await Promise.all([start(p1), start(p2)]);

    const retried = await h1.result();
    expect(retried).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': p1 } })).toHaveLength(2);

    const cause = (await failureOf(h2.result())) as ApplicationFailure;
    expect(cause.type).toBe('TrainingJobFailed');
    expect(cause.message).toMatch(/after 2 attempt\(s\); last job .* ended FAILED: OOM in trainer/);
  });
});

// PipelineState has no EXPIRED (JobState has): EXPIRED is a CustomJob's end.
test.each([
  ['PAUSED', 'engagement', 'daily', 'PIPELINE_STATE_CANCELLED'],
  ['EXPIRED', 'churn', 'monthly', 'JOB_STATE_EXPIRED'],
] as const)(
  '%s is not success: the job is retried as a new one (a paused job is cancelled first)',
  async (outcome, pipeline, format, firstEnd) => {
    await inProject(async (ctx) => {
      const [once, always] = [uniquePartition(format), uniquePartition(format)];
      await control.addRule({
        match: { project: iso.project, labels: { 'ct-partition': once } },
        script: { outcome },
        times: 1,
      });
      await control.addRule({
        match: { project: iso.project, labels: { 'ct-partition': always } },
        script: { outcome },
      });
      const segment = pipeline === 'engagement' ? 'jp-youtube' : undefined;
      const start = (partition: string) =>
        startTrainingRun(
          ctx.client,
          config,
          { pipeline, environment: 'staging', partition, segment, assumeDataReady: true },
          { taskQueue: ctx.taskQueue },
        );
      const [retried, failing] = await Promise.all([start(once), start(always)]);

      expect(await retried.result()).toMatchObject({ status: 'succeeded', attempts: 2 });
      const first = await control.jobs({ project: iso.project, labels: { 'ct-partition': once } });
      expect(first.map((j) => j.state.replace(/^(PIPELINE|JOB)_STATE_/, ''))).toEqual([
        firstEnd.replace(/^(PIPELINE|JOB)_STATE_/, ''),
        'SUCCEEDED',
      ]);

      const failure = (await failureOf(failing.result())) as ApplicationFailure;
      expect(failure.message).toMatch(
        new RegExp(
          `^training failed after 2 attempt\\(s\\); last job projects/\\d+/locations/us-central1/\\w+Jobs/\\S+ ended ${outcome}$`,
        ),
      );
      const jobs = await control.jobs({ project: iso.project, labels: { 'ct-partition': always } });
      expect(jobs).toHaveLength(2);
      // A paused job still holds resources: each one is cancelled before the next attempt.
      expect(jobs.map((j) => j.cancelRequested)).toEqual(outcome === 'PAUSED' ? [true, true] : [false, false]);
    });
  },
);

test('cancelling a running run cancels its Vertex job at once and ends Cancelled once the job has ended', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    await control.addRule({
      match: { project: iso.project, labels: { 'ct-partition': partition } },
      script: { holdIn: 'RUNNING', cancellingMs: 500 },
    });
    const handle = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-instagram', assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const running = await eventually(async () => {
      const s = await handle.query(trainingStatusQuery);
      return s.phase === 'running' && s.job ? s.job : undefined;
    });
    const before = (await control.calls({ method: 'CancelPipelineJob' })).at(-1)?.seq ?? 0;
    const cancelledAt = Date.now();
    await handle.cancel();
    expect(await failureOf(handle.result())).toBeInstanceOf(CancelledFailure);
    const cancels = (await control.calls({ method: 'CancelPipelineJob', after: before })).filter(
      (c) => (c.request as { name: string }).name === running.name,
    );
    expect(cancels).toHaveLength(1);
    expect(Date.parse(cancels[0]!.time) - cancelledAt).toBeLessThan(2_000);
    expect((await control.job(running.name)).state).toBe('PIPELINE_STATE_CANCELLED');
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    await maybeSaveHistory(handle, 'training-run-cancelled');
  });
});

test('a lost create response and three 429s: the run retries through them and succeeds with exactly one job', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    // The first create is stored but its answer lost; the three calls after it are refused with 429.
    await control.addFault({
      method: 'CreatePipelineJob',
      project: iso.project,
      code: 'UNAVAILABLE',
      mode: 'lose-response',
      times: 1,
    });
    await control.addFault({ method: '*', project: iso.project, code: 'RESOURCE_EXHAUSTED', times: 3 });
    const handle = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-instagram', assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    expect(await handle.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await control.jobs({ project: iso.project })).toHaveLength(1);
    const calls = await control.calls({ project: iso.project });
    expect(calls.filter((c) => c.method === 'CreatePipelineJob').map((c) => c.codeName)[0]).toBe('UNAVAILABLE');
    expect(calls.filter((c) => c.codeName === 'RESOURCE_EXHAUSTED')).toHaveLength(3);
  });
});

test.each([
  ['INVALID_ARGUMENT', /INVALID_ARGUMENT: Request contains an invalid argument/],
  ['PERMISSION_DENIED', /PERMISSION_DENIED: Permission 'aiplatform.pipelineJobs.create' denied/],
] as const)('a request Vertex rejects (%s) fails the run at once with Vertex’s reason', async (code, message) => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    await control.addFault({ method: 'CreatePipelineJob', project: iso.project, code, times: 1 });
    const handle = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'us-instagram', assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const cause = (await failureOf(handle.result())) as ApplicationFailure;
    expect(cause.type).toBe('VertexRejected');
    expect(cause.message).toMatch(message);
    const history = await handle.fetchHistory();
    const attempts = history.events
      ?.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
      .map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).toEqual([1, 1]); // resolve, submit: no retry of a rejected request
  });
});

test('parameter overrides are checked against the compiled spec before anything is submitted', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    const handle = await startTrainingRun(
      ctx.client,
      config,
      {
        pipeline: 'engagement',
        environment: 'staging',
        partition,
        segment: 'jp-instagram',
        parameters: { epochs: 'ten', learningrate: 0.1 },
        assumeDataReady: true,
      },
      { taskQueue: ctx.taskQueue },
    );
    const cause = (await failureOf(handle.result())) as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/"epochs" must be NUMBER_INTEGER, got "ten"/);
    expect(cause.message).toMatch(/"learningrate" is not a parameter of the pipeline \(it has: .*learning_rate/);
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toEqual([]);
  });
});

test('bad requests are refused to the caller; bad input typed in the UI fails the run at once', async () => {
  await inProject(async (ctx) => {
    const opts = { taskQueue: ctx.taskQueue };
    await expect(
      startTrainingRun(ctx.client, config, { pipeline: 'nope', environment: 'staging', partition: '2030-01-01' }, opts),
    ).rejects.toThrow(/unknown pipeline "nope"; the config has: engagement, churn/);
    await expect(
      startTrainingRun(
        ctx.client,
        config,
        { pipeline: 'engagement', environment: 'staging', partition: '2030-01-01', segment: 'us-youtube' },
        opts,
      ),
    ).rejects.toThrow(/segment "us-youtube" is not trained by engagement/);
    await expect(
      sendDataReady(ctx.client, config, { environment: 'staging', dataset: 'tweets', partition: '2030-01-01' }, opts),
    ).rejects.toThrow(TrainingRequestError);
    await expect(
      sendDataReady(ctx.client, config, { environment: 'staging', dataset: 'tweets' }, opts),
    ).rejects.toThrow(/invalid data-ready/);

    // The UI's Start Workflow form bypasses the client: the workflow itself refuses, once.
    const raw = await ctx.client.workflow.start('trainingRun', {
      taskQueue: ctx.taskQueue,
      workflowId: uniqueId('ui'),
      args: [{ pipeline: 'engagement', partition: 'yesterday' }],
    });
    const cause = (await failureOf(raw.result())) as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/environment/);
    const events = (await raw.fetchHistory()).events ?? [];
    expect(events.map((e) => e.eventType)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  });
});

test('a run started under another workflow id hands over to the partition’s own run', async () => {
  await inProject(async (ctx) => {
    const partition = uniquePartition();
    const input = {
      pipeline: 'engagement',
      environment: 'staging',
      partition,
      segment: 'us-instagram',
      assumeDataReady: true,
    };
    const launched = await ctx.client.workflow.start('trainingRun', {
      taskQueue: ctx.taskQueue,
      workflowId: `ui-typed-${partition}`,
      args: [input],
    });
    const result = (await launched.result()) as TrainingRunResult;
    expect(result).toMatchObject({ status: 'delegated', delegatedTo: trainingRunId(input) });
    expect(await handleOf(ctx, input).result()).toMatchObject({ status: 'succeeded' });
    // The partition has run: another launch starts nothing new.
    const again = await ctx.client.workflow.start('trainingRun', {
      taskQueue: ctx.taskQueue,
      workflowId: `scheduled-${partition}`,
      args: [input],
    });
    expect(((await again.result()) as TrainingRunResult).reason).toMatch(/already ran/);
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
  });
});
