// A job whose attempt may still get a late twin (the first create answered DEADLINE_EXCEEDED and
// lands later) is watched with a heartbeat (workflows/support/vertex-job-supervisor.ts): when the
// worker watching it is SIGKILLed, another takes the watch over within the heartbeat timeout, not
// a chunk, and cancels the twin that lands meanwhile, before a short twin could run to its end.
// Found by the one-hour soak: an 8-s BatchPredictionJob twin landed 0.4 s after the watching worker
// was killed and succeeded before the watch's chunk timeout handed it over.
import { startTrainingRun } from '../../client/training';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, dailyData, projectWith } from '../helpers/pipelines';
import { connectTestClient, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { statusUntil } from '../helpers/training-steps';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(180_000);

const control = emulatorControl();

test('a worker SIGKILLed while it watches a retried create’s job: another takes over within the heartbeat timeout and cancels the late twin', async () => {
  // A chunk of 2 minutes: without the heartbeat the dead worker's watch is retried only after 2½.
  const iso = projectWith({
    trainer: {
      data: dailyData(['features']),
      training: customJobTraining,
      polling: { interval: '100ms', chunk: '2m' },
    },
  });
  const taskQueue = uniqueId('twin-takeover');
  const env = { CT_VERTEX_LATE_CREATE_WINDOW_MS: '45000' };
  const { client, close } = await connectTestClient();
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath, env });
  try {
    await control.addFault({
      method: 'CreateCustomJob',
      project: iso.project,
      code: 'DEADLINE_EXCEEDED',
      mode: 'commit-late',
      commitAfterMs: 20_000,
      times: 1,
    });
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const run = await startTrainingRun(
      client,
      iso.config,
      { pipeline: 'trainer', environment: 'staging', partition: uniquePartition(), assumeDataReady: true },
      { taskQueue },
    );
    const watched = (await statusUntil(run, (s) => s.phase === 'running')).job!;
    // The retry's job is watched on this worker; the late create has not landed yet.
    await eventually(async () => {
      const pending = (await run.describe()).raw.pendingActivities ?? [];
      return pending.some((a) => a.activityType?.name === 'awaitTrainingJob' && a.lastStartedTime) || undefined;
    }, 20_000);
    expect(await control.jobs({ project: iso.project })).toHaveLength(1);
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath, env });

    const late = await eventually(
      async () => (await control.jobs({ project: iso.project })).find((j) => j.name !== watched.name),
      30_000,
    );
    // Taken over within the heartbeat timeout (10 s) and the next listing: cancelled while it runs.
    const state = await eventually(async () => {
      const s = (await control.job(late.name)).state;
      return s === 'JOB_STATE_CANCELLING' || s === 'JOB_STATE_CANCELLED' ? s : undefined;
    }, 25_000);
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(state);

    await control.advance(watched.name);
    expect(await run.result()).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: watched.name } });
  } finally {
    await worker.stop();
    await close();
    await iso.cleanup();
  }
});
