// The worker process is SIGKILLed while a segment's BatchPredictionJob create is in flight (Vertex
// stored the job, the answer has not come back) and another one started: the retry finds that job
// by its label, and the run finishes with exactly one Vertex job per segment.
import { startPredictionRun } from '../../client/prediction';
import { startTrainingRun } from '../../client/training';
import { uniquePartition } from '../helpers/isolation';
import { projectWith, trainsAndPredicts } from '../helpers/pipelines';
import { seedPredictionInputs } from '../helpers/prediction-steps';
import { connectTestClient, testStorage, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

const control = emulatorControl();

test('worker SIGKILLed mid-submit in a fan-out and restarted: the retry finds the job by label, one job per segment', async () => {
  // `predicted` in `predict`: a model trained on the KFP fixture, and 2 batch jobs at once (the window).
  const iso = projectWith(
    { predicted: trainsAndPredicts({ countries: ['JP', 'US'], sns: ['instagram', 'youtube', 'tiktok'] }) },
    'predict',
  );
  const taskQueue = uniqueId('kill-fanout');
  const partition = uniquePartition();
  const segments = ['jp-instagram', 'jp-youtube', 'jp-tiktok', 'us-instagram', 'us-youtube', 'us-tiktok'];
  const storage = testStorage();
  await seedPredictionInputs(storage, 'predicted', partition, segments);
  const { client, close } = await connectTestClient();
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });
  try {
    // A champion to predict with.
    await (
      await startTrainingRun(
        client,
        iso.config,
        { pipeline: 'predicted', environment: 'predict', partition, assumeDataReady: true },
        { taskQueue },
      )
    ).result();
    // The first two creates (the window holds 2) are stored at once and answered only after 30 s:
    // the worker dies before it hears either.
    await control.addFault({
      method: 'CreateBatchPredictionJob',
      project: iso.project,
      mode: 'delay',
      delayMs: 30_000,
      times: 2,
    });
    const handle = await startPredictionRun(
      client,
      iso.config,
      { pipeline: 'predicted', environment: 'predict', partition, segments },
      { taskQueue },
    );
    const inFlight = await eventually(async () => {
      const made = await control.jobs({ kind: 'batchPredictionJob', project: iso.project });
      return made.length === 2 ? made : undefined;
    }, 60_000);
    expect(await control.calls({ method: 'CreateBatchPredictionJob', project: iso.project })).toEqual([]); // both unanswered
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath });

    const summary = await handle.result();
    expect(summary).toMatchObject({ verdict: 'succeeded', progress: { total: 6, succeeded: 6 } });
    const jobs = await control.jobs({ kind: 'batchPredictionJob', project: iso.project });
    expect(jobs.map((j) => `${j.labels['ct-country']}-${j.labels['ct-sns']}`).sort()).toEqual([...segments].sort());
    // The jobs made before the kill are the ones their segments reported.
    for (const made of inFlight) {
      const segment = `${made.labels['ct-country']}-${made.labels['ct-sns']}`;
      expect(summary.segments.find((s) => s.segment === segment)?.job).toBe(made.name);
    }
    // One create per segment: the dead worker's two (answered late) and four more; the retries created nothing.
    await eventually(
      async () =>
        (await control.calls({ method: 'CreateBatchPredictionJob', project: iso.project })).length === 6
          ? true
          : undefined,
      40_000,
    );
  } finally {
    await worker.stop();
    await close();
    await iso.cleanup();
  }
});
