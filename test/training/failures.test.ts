// Correct under failure: the worker process is SIGKILLed mid-submit and mid-wait, and the Temporal
// server itself is killed and restarted on its SQLite file while a run waits for data.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { sendDataReady, startTrainingRun } from '../../client/training';
import { trainingRunId, trainingStatusQuery } from '../../contracts';
import { freePort, type Service } from '../../stack/process';
import { startTemporalDevServer } from '../../stack/temporal-server';
import { readToolPaths } from '../../stack/tools';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { kfpTrainingPerSegment, projectWith, snsData, snsSegments } from '../helpers/pipelines';
import { connectTestClient, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

const control = emulatorControl();

// Each test in a Vertex project of its own (the worker processes load its config file), with
// `engagement`: a PipelineJob per segment (jp-instagram, jp-youtube, us-instagram), each waiting
// for its SNS posts and user_profiles.
let iso: IsolatedProject;
let config: IsolatedProject['config'];
beforeEach(() => {
  iso = projectWith({ engagement: { data: snsData, training: kfpTrainingPerSegment, segments: snsSegments } });
  config = iso.config;
});
afterEach(() => iso.cleanup());

let client: Client;
let close: () => Promise<void>;
beforeAll(async () => ({ client, close } = await connectTestClient()));
afterAll(() => close());

function kill(worker: Service): Promise<unknown> {
  process.kill(worker.pid, 'SIGKILL');
  return worker.exited;
}

test('worker SIGKILLed after Vertex created the job but before it heard back: a new worker finds that job', async () => {
  const taskQueue = uniqueId('kill-submit');
  const partition = uniquePartition();
  // The job is stored at once and its (successful) answer held back 20 s: within the submit's
  // 45 s timeout, so only the kill makes a second attempt necessary.
  await control.addFault({
    method: 'CreatePipelineJob',
    project: iso.project,
    mode: 'delay',
    delayMs: 20_000,
    times: 1,
  });
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
  try {
    const handle = await startTrainingRun(
      client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-instagram', assumeDataReady: true },
      { taskQueue },
    );
    await eventually(
      async () =>
        (await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).length === 1
          ? true
          : undefined,
      30_000,
    );
    expect(await control.calls({ method: 'CreatePipelineJob', project: iso.project })).toEqual([]); // unanswered
    await kill(worker);
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
    // The submit that completed was a later attempt, on the new worker: it found the job (ALREADY_EXISTS).
    const events = (await handle.fetchHistory()).events ?? [];
    const submitId = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitTrainingJob',
    )?.eventId;
    const started = events.find(
      (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(submitId),
    );
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(2);
    const creates = await control.calls({ method: 'CreatePipelineJob', project: iso.project });
    expect(creates.map((c) => c.codeName).sort()).toEqual(['ALREADY_EXISTS', 'OK']);
  } finally {
    await worker.stop();
  }
});

test('worker SIGKILLed while the job runs: the job ends meanwhile, and a new worker carries the run to success', async () => {
  const taskQueue = uniqueId('kill-wait');
  const partition = uniquePartition();
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-partition': partition } },
    script: { holdIn: 'RUNNING' },
  });
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
  try {
    const handle = await startTrainingRun(
      client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'us-instagram', assumeDataReady: true },
      { taskQueue },
    );
    const job = await eventually(async () => {
      const s = await handle.query(trainingStatusQuery);
      return s.phase === 'running' ? s.job : undefined;
    });
    await kill(worker);
    // The run says "running" once the job exists; Vertex may still have it QUEUED or PENDING.
    await eventually(async () => ((await control.job(job.name)).state === 'PIPELINE_STATE_RUNNING' ? true : undefined));
    await control.advance(job.name); // RUNNING → SUCCEEDED while no worker is alive
    const dead = worker.pid;
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: job.name } });
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
    // The watch that saw the end ran on the new worker (identity pid@host), not the dead one.
    const events = (await handle.fetchHistory()).events ?? [];
    const watchIds = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitTrainingJob')
      .map((e) => String(e.eventId));
    const lastWatch = events
      .filter((e) => watchIds.includes(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')))
      .at(-1);
    expect(lastWatch?.activityTaskStartedEventAttributes?.identity).toMatch(new RegExp(`^${worker.pid}@`));
    expect(dead).not.toBe(worker.pid);
  } finally {
    await worker.stop();
  }
});

test('the Temporal server killed and restarted on its SQLite file while a run waits for data: nothing is lost', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-restart-'));
  const ports = { port: await freePort(), httpPort: await freePort(), metricsPort: await freePort() };
  const start = () =>
    startTemporalDevServer({
      binary: readToolPaths().temporal,
      ip: '127.0.0.1',
      ...ports,
      namespace: 'ct-test',
      dbFile: path.join(tmp, 'temporal.sqlite'),
      logFile: path.join(tmp, 'temporal.log'),
    });
  let server = await start();
  const taskQueue = uniqueId('restart');
  const partition = uniquePartition();
  const worker = await startWorkerProcess({ taskQueue, address: server.address, configPath: iso.configPath });
  const own = await Connection.connect({ address: server.address });
  try {
    const c = new Client({ connection: own, namespace: 'ct-test' });
    const first = await sendDataReady(
      c,
      config,
      { environment: 'staging', dataset: 'youtube_posts', partition },
      { taskQueue },
    );
    expect(first.reached.map((r) => r.waitingFor)).toEqual([['user_profiles']]);

    process.kill(server.service.pid, 'SIGKILL');
    await server.service.exited;
    server = await start();

    // The worker and this client reconnect by themselves; the first data-ready is still there.
    const second = await eventually(
      () => sendDataReady(c, config, { environment: 'staging', dataset: 'user_profiles', partition }, { taskQueue }),
      60_000,
    );
    const reached = second.reached.find((r) => r.segment === 'jp-youtube')!;
    expect(reached).toMatchObject({ accepted: true, waitingFor: [] });
    const handle = c.workflow.getHandle(
      trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' }),
    );
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });
    const status = await handle.query(trainingStatusQuery);
    expect(status.datasets.map((d) => [d.dataset, d.ready])).toEqual([
      ['youtube_posts', true],
      ['user_profiles', true],
    ]);
  } finally {
    await own.close();
    await worker.stop();
    await server.service.stop();
  }
});
