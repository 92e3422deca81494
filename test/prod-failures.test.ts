// The production topology under failure: three workers on the Temporal server built from source
// (PostgreSQL persistence); the worker running a watch is SIGKILLed and another takes over; the
// server is SIGKILLed and restarted, and PostgreSQL crashes and comes back, while a run waits for
// data; every worker is gone for a minute while a job runs.
import { Client, Connection } from '@temporalio/client';
import { sendDataReady, startTrainingRun } from '../client/training';
import { trainingRunId, trainingStatusQuery } from '../contracts';
import { recentPollers } from '../scripts/stack/pollers';
import type { Service } from '../scripts/stack/process';
import { startTestCluster, type TestCluster } from './helpers/cluster';
import { isolatedProject, uniquePartition, type IsolatedProject } from './helpers/isolation';
import { eventually, uniqueId } from './helpers/temporal';
import { emulatorControl } from './helpers/vertex';
import { startWorkerProcess } from './helpers/worker-process';

jest.setTimeout(300_000);

const NAMESPACE = 'ct-prod-test';
const control = emulatorControl();
let cluster: TestCluster;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  cluster = await startTestCluster(NAMESPACE);
  connection = await Connection.connect({ address: cluster.temporal.address });
  client = new Client({ connection, namespace: NAMESPACE });
}, 180_000);
afterAll(async () => {
  await connection?.close();
  await cluster?.stop();
});

let iso: IsolatedProject;
beforeEach(() => (iso = isolatedProject()));
afterEach(() => iso.cleanup());

/** Three compiled workers on one task queue, each seen polling. */
async function startWorkers(taskQueue: string): Promise<Service[]> {
  const workers: Service[] = [];
  for (let i = 0; i < 3; i++) {
    workers.push(
      await startWorkerProcess({
        taskQueue,
        address: cluster.temporal.address,
        namespace: NAMESPACE,
        configPath: iso.configPath,
      }),
    );
  }
  await eventually(async () => {
    const polling = await recentPollers(cluster.temporal.address, NAMESPACE, taskQueue);
    return workers.every((w) => polling.some((id) => id.startsWith(`${w.pid}@`))) ? true : undefined;
  }, 60_000);
  return workers;
}

const watchIdentities = async (workflowId: string) => {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const watches = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitTrainingJob')
      .map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => watches.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')))
    .map((e) => e.activityTaskStartedEventAttributes!.identity!);
};

test('the worker running the watch is SIGKILLed: another of the three carries the run on, one Vertex job', async () => {
  const taskQueue = uniqueId('prod-kill-watch');
  const partition = uniquePartition();
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-partition': partition } },
    script: { holdIn: 'RUNNING' },
  });
  const workers = await startWorkers(taskQueue);
  try {
    // chaos: the fixture environment that watches in 3 s chunks, polling every 100 ms.
    const handle = await startTrainingRun(
      client,
      iso.config,
      { pipeline: 'engagement', environment: 'chaos', partition, segment: 'us-instagram', assumeDataReady: true },
      { taskQueue },
    );
    const job = await eventually(async () => {
      const s = await handle.query(trainingStatusQuery);
      return s.phase === 'running' ? s.job : undefined;
    }, 60_000);
    // The worker whose watch attempt is in flight now (a watch hands over to its next attempt every
    // chunk, so only the pending activity, not the history, says who holds it).
    const holder = async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.find((a) => a.activityType?.name === 'awaitTrainingJob')?.lastWorkerIdentity ?? undefined;
    };
    const watcher = await eventually(async () => {
      const id = await holder();
      return workers.find((w) => id?.startsWith(`${w.pid}@`));
    }, 30_000);
    process.kill(watcher.pid, 'SIGKILL');
    await watcher.exited;
    const survivors = workers.filter((w) => w !== watcher).map((w) => `${w.pid}@`);
    // Once the killed attempt times out, a survivor holds the watch while the job still runs.
    const t0 = Date.now();
    await eventually(async () => {
      const id = await holder();
      return survivors.some((s) => id?.startsWith(s)) ? true : undefined;
    }, 120_000);
    console.log(`watch taken over by a surviving worker ${((Date.now() - t0) / 1000).toFixed(1)}s after the SIGKILL`);
    await control.advance(job.name);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: job.name } });
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
    // The attempt that saw the end ran on a survivor.
    expect((await watchIdentities(handle.workflowId)).at(-1)).toMatch(new RegExp(`^(${survivors.join('|')})`));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

// A store outage while a run waits for data: the workers, the server and this client reconnect by
// themselves, and the first data-ready survives it.
const outages: [string, () => Promise<{ before: number; after: number }>][] = [
  [
    'the Temporal server SIGKILLed and restarted on PostgreSQL',
    async () => {
      const before = cluster.temporal.service.pid;
      process.kill(before, 'SIGKILL');
      await cluster.temporal.service.exited;
      cluster.temporal = await cluster.temporal.restart();
      return { before, after: cluster.temporal.service.pid };
    },
  ],
  [
    'PostgreSQL crashed (immediate shutdown) and started again',
    async () => {
      const before = cluster.postgres.service.pid;
      await cluster.crashPostgres();
      return { before, after: cluster.postgres.service.pid };
    },
  ],
];

test.each(outages)(
  '%s while a run waits for data: the run goes on, nothing lost, one Vertex job',
  async (name, outage) => {
    const taskQueue = uniqueId('prod-outage');
    const partition = uniquePartition();
    const workers = await startWorkers(taskQueue);
    try {
      const first = await sendDataReady(
        client,
        iso.config,
        { environment: 'staging', dataset: 'youtube_posts', partition },
        { taskQueue },
      );
      expect(first.reached.map((r) => r.waitingFor)).toEqual([['user_profiles']]);

      const t0 = Date.now();
      const { before, after } = await outage();
      expect(after).not.toBe(before);
      console.log(`${name}: back in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

      const second = await eventually(
        () =>
          sendDataReady(
            client,
            iso.config,
            { environment: 'staging', dataset: 'user_profiles', partition },
            { taskQueue },
          ),
        90_000,
      );
      expect(second.reached.find((r) => r.segment === 'jp-youtube')).toMatchObject({ accepted: true, waitingFor: [] });
      const handle = client.workflow.getHandle(
        trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' }),
      );
      expect(await handle.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
      const status = await handle.query(trainingStatusQuery);
      expect(status.datasets.map((d) => [d.dataset, d.ready])).toEqual([
        ['youtube_posts', true],
        ['user_profiles', true],
      ]);
      expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  },
);

test('every worker stopped for a minute while a job runs: new workers carry the run on, one Vertex job', async () => {
  const taskQueue = uniqueId('prod-no-workers');
  const partition = uniquePartition();
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-partition': partition } },
    script: { holdIn: 'RUNNING' },
  });
  const workers = await startWorkers(taskQueue);
  let replacements: Service[] = [];
  try {
    const handle = await startTrainingRun(
      client,
      iso.config,
      { pipeline: 'engagement', environment: 'chaos', partition, segment: 'us-instagram', assumeDataReady: true },
      { taskQueue },
    );
    const job = await eventually(async () => {
      const s = await handle.query(trainingStatusQuery);
      return s.phase === 'running' ? s.job : undefined;
    }, 60_000);
    // SIGTERM: each drains what it holds and leaves; then nothing polls the queue for a minute.
    await Promise.all(workers.map((w) => w.stop()));
    await new Promise((r) => setTimeout(r, 60_000));
    expect(await recentPollers(cluster.temporal.address, NAMESPACE, taskQueue, 30_000)).toEqual([]);
    // The job ended while nobody watched: the run learns it from the workers that come back.
    await control.advance(job.name);
    replacements = await startWorkers(taskQueue);
    expect(await handle.result()).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: job.name } });
    // The watch attempt that saw the end ran on a worker that came back, not on one of the first three.
    expect((await watchIdentities(handle.workflowId)).at(-1)).toMatch(
      new RegExp(`^(${replacements.map((w) => `${w.pid}@`).join('|')})`),
    );
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
  } finally {
    await Promise.all([...workers, ...replacements].map((w) => w.stop()));
  }
});
