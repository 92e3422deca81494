// Model-ready consumers: a waiting consumer is told by the training run that promotes a model; one
// that asks after the fact finds the champion in the registry; one nobody satisfies times out with
// the reason. And the worker killed mid-upload leaves one version.
import { randomInt } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { startWaitForModel } from '../../client/model';
import { startTrainingRun } from '../../client/training';
import { modelWaitStatusQuery, searchAttributes as sa } from '../../contracts';
import { maybeSaveHistory } from '../helpers/histories';
import { connectTestClient, uniqueId, withWorker as withAnyWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import type { IsolatedProject } from '../helpers/isolation';
import {
  customJobTraining,
  dailyData,
  kfpTraining,
  modelReadyFiles,
  modelRegistry,
  projectWith,
} from '../helpers/pipelines';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(120_000);

const control = emulatorControl();
const clients = vertexClients();
afterAll(() => clients.close());

// Each test in a Vertex project of its own, environment `models`: `announced` registers and
// promotes each model and announces it (manifest); `fragile` (in `chaos`) registers with a 15 s
// upload timeout, so a dead worker's retry comes within the test; `engagement` has no model and
// is not in `models`.
let iso: IsolatedProject;
let config: IsolatedProject['config'];
beforeEach(() => {
  iso = projectWith(
    {
      announced: {
        data: dailyData(['announced_data']),
        training: kfpTraining,
        model: { registry: modelRegistry, modelReady: modelReadyFiles() },
      },
      fragile: {
        data: dailyData(['fragile_data']),
        training: kfpTraining,
        model: { registry: { ...modelRegistry, uploadTimeout: '15s' } },
        environments: { chaos: {} },
      },
      engagement: { data: dailyData(['posts']), training: customJobTraining, environments: { staging: {} } },
    },
    'models',
  );
  config = iso.config;
});
afterEach(() => iso.cleanup());
const withWorker = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withAnyWorker(fn, { project: iso });

// One year per test file run keeps this file's partitions above any other run of `announced`.
const year = randomInt(30, 99);

test('a consumer waiting for a fresher model is told by the training run that promotes one', async () => {
  await withWorker(async (ctx) => {
    const partition = `20${year}-03-10`;
    const consumer = await startWaitForModel(
      ctx.client,
      config,
      { environment: 'models', pipeline: 'announced', minPartition: partition, timeout: '5m' },
      { taskQueue: ctx.taskQueue },
    );
    // It has looked at the registry (nothing that fresh) and is findable by the training run.
    await eventually(async () =>
      (await consumer.query(modelWaitStatusQuery)).champion !== undefined ? true : undefined,
    );
    await eventually(async () => {
      for await (const w of ctx.client.workflow.list({
        query: `${sa.awaitingModel.name} = "models/announced/all" AND WorkflowId = "${consumer.workflowId}"`,
      }))
        return w;
      return undefined;
    });

    const run = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'announced', environment: 'models', partition, assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const trained = await run.result();
    expect(trained.model?.consumersTold).toBeGreaterThanOrEqual(1);

    const ready = await consumer.result();
    await maybeSaveHistory(consumer, 'wait-for-model-announced');
    expect(ready).toMatchObject({
      source: 'announcement',
      pipeline: 'announced',
      environment: 'models',
      segment: null,
      partition,
      version: trained.model!.version,
      model: trained.model!.name,
      workflowId: run.workflowId,
    });
    expect(typeof ready.metrics.auc).toBe('number');

    // The manifest in GCS says the same as the signal.
    const [manifest] = await ctx.storage
      .bucket('ct-test-bucket')
      .file(`models/${ctx.project}/announced/models/manifest.json`)
      .download();
    expect(JSON.parse(manifest.toString())).toMatchObject({
      version: trained.model!.version,
      partition,
      trainedAt: ready.trainedAt,
      runId: ready.runId,
    });

    // Asked after the fact, the registry's champion is fresh enough: no waiting.
    const late = await startWaitForModel(
      ctx.client,
      config,
      { environment: 'models', pipeline: 'announced', minPartition: partition, timeout: '5m' },
      { taskQueue: ctx.taskQueue },
    );
    const fromRegistry = await late.result();
    expect(fromRegistry).toMatchObject({ source: 'registry', version: trained.model!.version, partition });
    expect(fromRegistry.aliases).toContain('champion');
  });
});

test('a consumer that no model satisfies fails after its timeout with what it saw', async () => {
  await withWorker(async (ctx) => {
    const handle = await startWaitForModel(
      ctx.client,
      config,
      { environment: 'models', pipeline: 'announced', minPartition: '2199-01-01', timeout: '2s' },
      { taskQueue: ctx.taskQueue },
    );
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(
      /^no model for models\/announced\/all fresh enough within 2s: (there is no champion yet|the champion is v\d+, trained on \d{4}-\d\d-\d\d)$/,
    );
    await expect(
      startWaitForModel(ctx.client, config, { environment: 'models', pipeline: 'announced', timeout: 'soon' }),
    ).rejects.toThrow(/a duration like 90s, 30m, 6h or 2d\n {2}→ at timeout/);
    await expect(
      startWaitForModel(ctx.client, config, { environment: 'models', pipeline: 'engagement' }),
    ).rejects.toThrow(/engagement/);
  });
});

test('worker SIGKILLed mid-upload: the retry finds the version the dead worker made, so there is one', async () => {
  const taskQueue = uniqueId('kill-upload');
  const partition = `20${year}-04-01`;
  // Vertex stores the version at once and answers 8 s later: well within the 15 s upload timeout,
  // so without the kill the first attempt would hear its answer and no retry would happen.
  await control.addFault({ method: 'UploadModel', project: iso.project, mode: 'delay', delayMs: 8_000, times: 1 });
  const { client, close } = await connectTestClient();
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
  try {
    const handle = await startTrainingRun(
      client,
      iso.config,
      { pipeline: 'fragile', environment: 'chaos', partition, assumeDataReady: true },
      { taskQueue },
    );
    // The version exists, and its upload is still unanswered: kill the worker now.
    await eventually(
      async () => ((await control.models(iso.project)).some((m) => m.versions.length > 0) ? true : undefined),
      60_000,
    );
    expect(await control.calls({ method: 'UploadModel', project: iso.project })).toEqual([]);
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', model: { version: '1' } });
    const [versions] = await clients.models.listModelVersions({
      name: `projects/${iso.project}/locations/us-central1/models/fragile-chaos`,
      filter: `labels.ct-partition="${partition}"`,
    });
    expect(versions).toHaveLength(1);
    // The one upload is the dead worker's; the registration that completed was a later attempt.
    expect(await control.calls({ method: 'UploadModel', project: iso.project })).toHaveLength(1);
    const events = (await handle.fetchHistory()).events ?? [];
    const registerId = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'registerCandidate',
    )?.eventId;
    const started = events.find(
      (e) =>
        e.activityTaskStartedEventAttributes &&
        String(e.activityTaskStartedEventAttributes.scheduledEventId) === String(registerId),
    );
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(2);
  } finally {
    await worker.stop();
    await close();
  }
});
