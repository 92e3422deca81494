// The production topology under failure: three workers on the Temporal server built from source
// (PostgreSQL persistence); the worker running a watch is SIGKILLed and another takes over, in a
// training run and in a prediction fan-out; the server is SIGKILLed and restarted, and PostgreSQL
// crashes and comes back, while a run waits for data and a schedule is due; every worker is gone
// for a minute while a job runs.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startPredictionRun } from '../../client/prediction';
import { applySync, planSync } from '../../client/schedules/sync';
import { sendDataReady, startTrainingRun } from '../../client/training';
import { loadConfig } from '../../config/load-config';
import { predictionSegmentId, scheduledRunQuery, trainingRunId, trainingStatusQuery } from '../../contracts';
import { recentPollers } from '../../stack/pollers';
import type { Service } from '../../stack/process';
import { startTestCluster, type TestCluster } from '../helpers/cluster';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import {
  batchPrediction,
  customJobTraining,
  dailyData,
  kfpTraining,
  modelRegistry,
  monthlyData,
  projectWith,
  snsData,
  snsSegments,
  type PipelineSpec,
} from '../helpers/pipelines';
import { testStorage, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { rollOut, rolloutUntil, servedProject, servingV1 } from '../helpers/serving-steps';
import { startWorkerProcess } from '../helpers/worker-process';

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

// Each test states its pipelines and gets them in a Vertex project of its own (`iso`), whose
// emulator rules are removed after it.
let iso: IsolatedProject | undefined;
const inProject = (pipelines: Record<string, PipelineSpec>) => (iso = projectWith(pipelines));
afterEach(async () => {
  await iso?.cleanup();
  iso = undefined;
});
const project = () => iso!.project;

/** Per segment (jp-youtube alone waits for youtube_posts), polled every 100 ms and watched in 3 s chunks. */
const engagement: PipelineSpec = { data: snsData, training: kfpTraining, segments: snsSegments };

/** Three compiled workers on one task queue, each seen polling. */
async function startWorkers(taskQueue: string): Promise<Service[]> {
  const workers: Service[] = [];
  for (let i = 0; i < 3; i++) {
    workers.push(
      await startWorkerProcess({
        taskQueue,
        address: cluster.temporal.address,
        namespace: NAMESPACE,
        configPath: iso!.configPath,
      }),
    );
  }
  await eventually(async () => {
    const polling = await recentPollers(cluster.temporal.address, NAMESPACE, taskQueue);
    return workers.every((w) => polling.some((id) => id.startsWith(`${w.pid}@`))) ? true : undefined;
  }, 60_000);
  return workers;
}

/** The test's config with a change, as the client reads it (from a file, the way ct would). */
function variantConfig(name: string, edit: (doc: { pipelines: Record<string, Record<string, unknown>> }) => void) {
  const configPath = path.join(path.dirname(iso!.configPath), `${name}.yaml`);
  const doc = JSON.parse(readFileSync(iso!.configPath, 'utf8')) as {
    pipelines: Record<string, Record<string, unknown>>;
  };
  edit(doc);
  writeFileSync(configPath, JSON.stringify(doc, null, 2));
  return loadConfig(configPath);
}

/** Who ran each attempt of a run's watch activity, in order (from its history). */
const watchIdentities = async (workflowId: string, activityType = 'awaitTrainingJob') => {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const watches = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  return events
    .filter((e) => watches.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId ?? '')))
    .map((e) => e.activityTaskStartedEventAttributes!.identity!);
};

/**
 * The worker whose watch attempt is in flight now (a watch hands over to its next attempt every
 * chunk, so only the pending activity, not the history, says who holds it).
 */
const watchHolder = async (workflowId: string, activityType = 'awaitTrainingJob') => {
  const pending = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
  return pending.find((a) => a.activityType?.name === activityType)?.lastWorkerIdentity ?? undefined;
};
const ranOn = (identity: string | undefined, workers: Service[]) =>
  workers.find((w) => identity?.startsWith(`${w.pid}@`));

/** The partition's Vertex job stays RUNNING until the test says otherwise. */
const holdRunning = (partition: string) =>
  control.addRule({
    match: { project: project(), labels: { 'ct-partition': partition } },
    script: { holdIn: 'RUNNING' },
  });

/** engagement in an environment `chaos` of its own. */
const chaosProject = () => inProject({ engagement: { ...engagement, environments: { chaos: {} } } });

/** A training run on the chaos environment (3 s watch chunks, polls every 100 ms), once its job runs. */
async function startChaosRun(taskQueue: string, partition: string) {
  const handle = await startTrainingRun(
    client,
    iso!.config,
    { pipeline: 'engagement', environment: 'chaos', partition, segment: 'us-instagram', assumeDataReady: true },
    { taskQueue },
  );
  const job = await eventually(async () => {
    const s = await handle.query(trainingStatusQuery);
    return s.phase === 'running' ? s.job : undefined;
  }, 60_000);
  return { handle, job };
}

test('the worker running the watch is SIGKILLed: another of the three carries the run on, one Vertex job', async () => {
  const taskQueue = uniqueId('prod-kill-watch');
  const partition = uniquePartition();
  chaosProject();
  await holdRunning(partition);
  const workers = await startWorkers(taskQueue);
  try {
    const { handle, job } = await startChaosRun(taskQueue, partition);
    const holder = () => watchHolder(handle.workflowId);
    const watcher = await eventually(async () => ranOn(await holder(), workers), 30_000);
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
    expect(await control.jobs({ project: project(), labels: { 'ct-partition': partition } })).toHaveLength(1);
    // The attempt that saw the end ran on a survivor.
    expect((await watchIdentities(handle.workflowId)).at(-1)).toMatch(new RegExp(`^(${survivors.join('|')})`));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test('a canary rollout on the production topology: two of its three workers SIGKILLed mid-step, the third takes it to 100 %, one candidate deployed', async () => {
  const served = servedProject({ watch: '8s' });
  iso = served.iso;
  const vertex = vertexClients();
  const { endpoint, old, v2, load } = await servingV1(vertex, served);
  const workers = await startWorkers(project());
  try {
    const handle = await rollOut(client, served, v2.versionId);
    await rolloutUntil(handle, (s) => s.phase === 'canary' && s.step?.percent === 50);
    for (const w of workers.slice(0, 2)) {
      process.kill(w.pid, 'SIGKILL');
      await w.exited;
    }
    const result = await handle.result();
    expect(result.outcome).toBe('done');
    const after = (await vertex.endpoints.getEndpoint({ name: endpoint }))[0];
    expect(after.deployedModels!.map((d) => d.modelVersionId)).toEqual([v2.versionId]);
    expect(after.deployedModels!.map((d) => d.id)).not.toContain(old);
  } finally {
    await load.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await vertex.close();
  }
});

test('a worker SIGKILLed mid-fan-out, three batch predictions watched: the others take every segment to its end, one Vertex job each', async () => {
  const taskQueue = uniqueId('prod-kill-fanout');
  const partition = uniquePartition();
  const segments = ['jp-instagram', 'jp-youtube', 'us-instagram', 'us-youtube', 'br-tiktok'];
  // One model, then batch prediction per country × SNS: three segments in flight at once, each
  // watched in 3 s chunks.
  const { config } = inProject({
    predicted: {
      environments: { predict: {} },
      data: dailyData(['predicted_data']),
      training: kfpTraining,
      model: { registry: modelRegistry },
      prediction: batchPrediction(
        { countries: ['JP', 'US', 'BR'], sns: ['instagram', 'youtube', 'tiktok'] },
        { maxConcurrentJobs: 3 },
      ),
    },
  });
  const storage = testStorage();
  for (const s of segments) {
    const [country, sns] = s.split('-');
    await storage
      .bucket('ct-test-bucket')
      .file(`predict-in/predicted/${partition}/${country!.toUpperCase()}-${sns}/part-0.jsonl`)
      .save('{"user":1}\n', { resumable: false });
  }
  const workers = await startWorkers(taskQueue);
  try {
    await (
      await startTrainingRun(
        client,
        config,
        { pipeline: 'predicted', environment: 'predict', partition, assumeDataReady: true },
        { taskQueue },
      )
    ).result(); // the champion the segments predict with
    await control.addRule({
      match: { project: project(), kind: 'batchPredictionJob' },
      script: { holdIn: 'RUNNING' },
    });
    const handle = await startPredictionRun(
      client,
      config,
      { pipeline: 'predicted', environment: 'predict', partition, segments },
      { taskQueue },
    );
    const segmentId = (j: { labels: Record<string, string> }) =>
      predictionSegmentId({
        environment: 'predict',
        pipeline: 'predicted',
        partition,
        segment: `${j.labels['ct-country']}-${j.labels['ct-sns']}`,
      });
    // Three jobs running, each segment's watch held by some worker.
    const held = await eventually(async () => {
      const running = await control.jobs({ kind: 'batchPredictionJob', project: project() });
      if (running.length !== 3 || running.some((j) => j.state !== 'JOB_STATE_RUNNING')) return undefined;
      const holders = await Promise.all(
        running.map(async (j) => ranOn(await watchHolder(segmentId(j), 'awaitBatchPrediction'), workers)),
      );
      return holders.every(Boolean) ? running.map((j, i) => ({ job: j, worker: holders[i]! })) : undefined;
    }, 90_000);
    const victim = held[0]!.worker;
    const orphaned = held.filter((h) => h.worker === victim).map((h) => segmentId(h.job));
    process.kill(victim.pid, 'SIGKILL');
    await victim.exited;
    const survivors = workers.filter((w) => w !== victim);
    const t0 = Date.now();
    // Every segment the dead worker watched is watched again by a survivor, its job still running.
    await eventually(async () => {
      const ids = await Promise.all(orphaned.map((id) => watchHolder(id, 'awaitBatchPrediction')));
      return ids.every((id) => ranOn(id, survivors)) ? true : undefined;
    }, 120_000);
    console.log(
      `fan-out: ${orphaned.length} segment watch(es) of the SIGKILLed worker taken over ${((Date.now() - t0) / 1000).toFixed(1)}s after the kill`,
    );
    await control.clearRules(project()); // the segments not yet started run through
    for (const h of held) await control.advance(h.job.name);

    const summary = await handle.result();
    expect(summary).toMatchObject({
      verdict: 'succeeded',
      progress: { total: segments.length, succeeded: segments.length },
    });
    const jobs = await control.jobs({ kind: 'batchPredictionJob', project: project() });
    expect(jobs.map((j) => `${j.labels['ct-country']}-${j.labels['ct-sns']}`).sort()).toEqual([...segments].sort());
    expect(jobs.every((j) => j.state === 'JOB_STATE_SUCCEEDED')).toBe(true);
    for (const h of held) {
      const segment = `${h.job.labels['ct-country']}-${h.job.labels['ct-sns']}`;
      expect(summary.segments.find((s) => s.segment === segment)?.job).toBe(h.job.name);
    }
    expect(await control.calls({ method: 'CreateBatchPredictionJob', project: project() })).toHaveLength(
      segments.length,
    );
    // The watch that saw each orphaned job end ran on a survivor.
    for (const id of orphaned)
      expect(ranOn((await watchIdentities(id, 'awaitBatchPrediction')).at(-1), survivors)).toBeDefined();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

// A store outage while a run waits for data and a schedule is due: the workers, the server and the
// client reconnect by themselves; a data-ready sent while the store is down arrives once it is
// back (through the library, whose gRPC client retries UNAVAILABLE for about 25 s), and a firing
// due after the restart fires.
interface Outage {
  down: () => Promise<number>;
  up: () => Promise<number>;
}
const outages: [string, Outage][] = [
  [
    'the Temporal server SIGKILLed and restarted on PostgreSQL',
    {
      down: async () => {
        const pid = cluster.temporal.service.pid;
        process.kill(pid, 'SIGKILL');
        await cluster.temporal.service.exited;
        return pid;
      },
      up: async () => {
        cluster.temporal = await cluster.temporal.restart();
        return cluster.temporal.service.pid;
      },
    },
  ],
  [
    'PostgreSQL crashed (immediate shutdown) and started again',
    {
      down: async () => {
        const pid = cluster.postgres.service.pid;
        await cluster.crashPostgres();
        return pid;
      },
      up: async () => {
        await cluster.restartPostgres();
        return cluster.postgres.service.pid;
      },
    },
  ],
];

/** How long the store stays down while a data-ready is already on its way. */
const OUTAGE_MS = 3_000;
/** When the schedule fires, after its creation: past the outage's end, whichever store is down. */
const FIRING_DELAY_MS = 25_000;

test.each(outages.map(([name, outage], i) => [name, outage, -(i + 1)] as const))(
  '%s while a run waits for data and a schedule is due: data-ready sent during it arrives, the firing runs, one Vertex job each',
  async (name, outage, monthOffset) => {
    const taskQueue = uniqueId('prod-outage');
    const partition = uniquePartition();
    // A schedule of each case's own: a deleted schedule's id lingers in visibility for a while.
    const scheduleName = `outage${-monthOffset}`;
    const scheduleId = `ct:staging:churn:${scheduleName}`;
    // churn fires once (a 2 s interval, startAt on one of its ticks and endAt 1 s later), for a
    // month of this test's own, into this test's queue. The workers' copy needs only the schedule's
    // name and action; the client's, synced once the workers are up, says when.
    const schedule = (firesAt: Date) => ({
      [scheduleName]: {
        action: 'training' as const,
        interval: '2s',
        startAt: firesAt.toISOString(),
        endAt: new Date(firesAt.getTime() + 1_000).toISOString(),
        partition: { offset: monthOffset },
      },
    });
    // engagement and churn (monthly, a CustomJob) send their staging runs to this cluster and queue.
    const staging = { staging: { temporal: { namespace: NAMESPACE, taskQueue } } };
    inProject({
      engagement: { ...engagement, environments: staging },
      churn: {
        environments: staging,
        data: monthlyData(['creator_activity']),
        training: customJobTraining,
        schedules: schedule(new Date(0)),
      },
    });
    const withSchedule = (firesAt: Date) =>
      variantConfig(`outage-${firesAt.getTime()}`, (doc) => (doc.pipelines.churn!.schedules = schedule(firesAt)));
    const workers = await startWorkers(taskQueue);
    try {
      const firesAt = new Date(Math.ceil((Date.now() + FIRING_DELAY_MS) / 2_000) * 2_000);
      const config = withSchedule(firesAt);
      await applySync(
        client,
        await planSync(client, { ...config, pipelines: { churn: config.pipelines.churn! } }, 'staging'),
      );
      const first = await sendDataReady(client, config, {
        environment: 'staging',
        dataset: 'youtube_posts',
        partition,
      });
      expect(first.reached.map((r) => r.waitingFor)).toEqual([['user_profiles']]);

      const downAt = Date.now();
      const before = await outage.down();
      // The second data-ready leaves while the store is down: the library's own retries carry it.
      let deliveredAt = 0;
      const second = sendDataReady(client, config, {
        environment: 'staging',
        dataset: 'user_profiles',
        partition,
      }).then((r) => ((deliveredAt = Date.now()), r));
      second.catch(() => undefined);
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      expect(deliveredAt).toBe(0);
      const upAt = Date.now();
      const after = await outage.up();
      const backAt = Date.now();
      expect(after).not.toBe(before);
      expect((await second).reached.find((r) => r.segment === 'jp-youtube')).toMatchObject({
        accepted: true,
        waitingFor: [],
      });
      const handle = client.workflow.getHandle(
        trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' }),
      );
      const job = await eventually(async () => (await handle.query(trainingStatusQuery)).job, 60_000);
      const jobAt = Date.now();
      expect(await handle.result()).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: job.name } });
      const status = await handle.query(trainingStatusQuery);
      expect(status.datasets.map((d) => [d.dataset, d.ready])).toEqual([
        ['youtube_posts', true],
        ['user_profiles', true],
      ]);
      expect(await control.jobs({ project: project(), labels: { 'ct-partition': partition } })).toHaveLength(1);

      // The firing due after the outage: it starts the month's churn run, which data-ready completes.
      const fired = await eventually(
        async () => (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0],
        90_000,
      ).catch(async (err: unknown) => {
        const d = await client.schedule.getHandle(scheduleId).describe();
        const sched = await client.workflow
          .getHandle(`temporal-sys-scheduler:${scheduleId}`)
          .describe()
          .catch((e: unknown) => String(e));
        throw new Error(
          `no firing: ${JSON.stringify({ info: d.info, spec: d.spec, state: d.state, sched: typeof sched === 'string' ? sched : { status: sched.status.name, raw: sched.raw.pendingWorkflowTask } })}`,
          { cause: err },
        );
      });
      expect(fired.scheduledAt.getTime()).toBe(firesAt.getTime());
      expect(fired.scheduledAt.getTime()).toBeGreaterThan(backAt);
      const firing = client.workflow.getHandle(fired.action.workflow.workflowId);
      const followed = await eventually(async () => {
        const s = await firing.query(scheduledRunQuery);
        return s.state === 'following' ? s : undefined;
      }, 60_000);
      await sendDataReady(client, config, {
        environment: 'staging',
        dataset: 'creator_activity',
        partition: followed.partition,
      });
      expect(await firing.result()).toMatchObject({ outcome: 'started', partition: followed.partition });
      const churn = client.workflow.getHandle(followed.workflowId!);
      expect(await churn.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(await control.jobs({ project: project(), labels: { 'ct-partition': followed.partition! } })).toHaveLength(
        1,
      );
      const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
      console.log(
        `${name}: down ${s(upAt - downAt)}, restart took ${s(backAt - upAt)}; the data-ready sent while down delivered ${s(deliveredAt - upAt)} after the restart began ` +
          `(${s(deliveredAt - downAt)} after it went down), the run's Vertex job created ${s(jobAt - backAt)} after; ` +
          `the firing due ${s(fired.scheduledAt.getTime() - backAt)} after it was back taken ${s(fired.takenAt.getTime() - fired.scheduledAt.getTime())} late`,
      );
    } finally {
      await client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
      await Promise.all(workers.map((w) => w.stop()));
    }
  },
);

test('every worker stopped for a minute while a job runs: new workers carry the run on, one Vertex job', async () => {
  const taskQueue = uniqueId('prod-no-workers');
  const partition = uniquePartition();
  chaosProject();
  await holdRunning(partition);
  const workers = await startWorkers(taskQueue);
  let replacements: Service[] = [];
  try {
    const { handle, job } = await startChaosRun(taskQueue, partition);
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
    expect(await control.jobs({ project: project(), labels: { 'ct-partition': partition } })).toHaveLength(1);
  } finally {
    await Promise.all([...workers, ...replacements].map((w) => w.stop()));
  }
});
