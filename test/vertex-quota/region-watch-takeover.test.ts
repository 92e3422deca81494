// A worker holding many coalesced watches is SIGKILLed: each watch activity times out on the dead
// worker and is retried on a live one, whose region listing serves them all (no Get per job), and
// every run finishes with its own job's end state.
import { startTrainingRun } from '../../client/training';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { connectTestClient, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

const control = emulatorControl();
const RUNS = 12;
const coalesced = { CT_VERTEX_WATCH: 'coalesced', CT_VERTEX_WATCH_INTERVAL_MS: '1000', CT_VERTEX_LIST_PAGE_SIZE: '5' };

test(`worker SIGKILLed while it holds ${RUNS} coalesced watches: another worker takes every one over`, async () => {
  // `churn`: a CustomJob per monthly partition, so the watches read ListCustomJobs.
  const iso = projectWith({ churn: { data: monthlyData(['creator_activity']), training: customJobTraining } });
  const taskQueue = uniqueId('kill-watches');
  const { client, close } = await connectTestClient();
  let worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath, env: coalesced });
  try {
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const partitions = new Set<string>();
    while (partitions.size < RUNS) partitions.add(uniquePartition('monthly'));
    const handles = await Promise.all(
      [...partitions].map((partition) =>
        startTrainingRun(
          client,
          iso.config,
          { pipeline: 'churn', environment: 'staging', partition, assumeDataReady: true },
          { taskQueue },
        ),
      ),
    );
    const running = await eventually(async () => {
      const jobs = await control.jobs({ kind: 'customJob', project: iso.project });
      return jobs.length === RUNS && jobs.every((j) => j.state === 'JOB_STATE_RUNNING') ? jobs : undefined;
    }, 60_000);
    // Every watch is held by the first worker and reads through the listing: three pages of 5.
    await eventually(
      async () =>
        (await control.calls({ method: 'ListCustomJobs', project: iso.project })).length >= 3 ? true : undefined,
      20_000,
    );
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    const killedAt = Date.now();
    worker = await startWorkerProcess({ taskQueue, configPath: iso.configPath, env: coalesced });
    for (const j of running) await control.advance(j.name);

    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.status)).toEqual(Array(RUNS).fill('succeeded'));
    expect(new Set(results.map((r) => r.job!.name)).size).toBe(RUNS);
    // The new worker read the jobs only by listing them: no Get for any of the twelve.
    const after = (await control.calls({ project: iso.project })).filter((c) => Date.parse(c.time) >= killedAt);
    expect(after.filter((c) => c.method === 'GetCustomJob')).toEqual([]);
    expect(after.filter((c) => c.method === 'ListCustomJobs').length).toBeGreaterThanOrEqual(3);
    // Each run's watch ended on the new worker (the SDK's identity is pid@host).
    for (const h of handles) {
      const events = (await h.fetchHistory()).events ?? [];
      const started = events.filter((e) => e.activityTaskStartedEventAttributes).at(-1)!;
      expect(started.activityTaskStartedEventAttributes!.identity).toMatch(new RegExp(`^${worker.pid}@`));
    }
  } finally {
    await worker.stop();
    await close();
    await iso.cleanup();
  }
});
