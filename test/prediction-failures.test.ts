// The worker process is SIGKILLed in the middle of a fan-out and another one started: the run
// finishes with exactly one Vertex job per segment.
import { randomInt } from 'node:crypto';
import { startPredictionRun } from '../client/prediction';
import { startTrainingRun } from '../client/training';
import { connectTestClient, eventually, testConfig, testStorage, uniqueId } from './helpers/temporal';
import { emulatorControl } from './helpers/vertex';
import { startWorkerProcess } from './helpers/worker-process';

jest.setTimeout(240_000);

const control = emulatorControl();
const config = testConfig();

test('worker SIGKILLed mid-fan-out and restarted: no duplicate jobs, every segment predicted once', async () => {
  const taskQueue = uniqueId('kill-fanout');
  const partition = `21${randomInt(10, 99)}-02-0${randomInt(1, 10)}`;
  const segments = ['jp-instagram', 'jp-youtube', 'jp-tiktok', 'us-instagram', 'us-youtube', 'us-tiktok'];
  const storage = testStorage();
  for (const s of segments) {
    const [country, sns] = s.split('-');
    await storage.bucket('ct-test-bucket').file(`predict-in/predicted/${partition}/${country!.toUpperCase()}-${sns}/part-0.jsonl`).save('{"user":1}\n', { resumable: false });
  }
  await control.addRule({ match: { kind: 'batchPredictionJob', labels: { 'ct-partition': partition } }, script: { runningMs: 3_000 } });
  const { client, close } = await connectTestClient();
  let worker = await startWorkerProcess({ taskQueue });
  try {
    // A champion to predict with.
    await (await startTrainingRun(client, config, { pipeline: 'predicted', environment: 'predict', partition, assumeDataReady: true }, { taskQueue })).result();
    const handle = await startPredictionRun(client, config, { pipeline: 'predicted', environment: 'predict', partition, segments }, { taskQueue });
    const jobs = () => control.jobs({ kind: 'batchPredictionJob', labels: { 'ct-pipeline': 'predicted', 'ct-partition': partition } });
    await eventually(async () => ((await jobs()).length >= 2 ? true : undefined), 60_000);
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    worker = await startWorkerProcess({ taskQueue });
    const summary = await handle.result();
    expect(summary).toMatchObject({ verdict: 'succeeded', progress: { total: 6, succeeded: 6 } });
    const made = (await jobs()).map((j) => `${j.labels['ct-country']}-${j.labels['ct-sns']}`).sort();
    expect(made).toEqual([...segments].sort());
  } finally {
    await worker.stop();
    await close();
  }
});
