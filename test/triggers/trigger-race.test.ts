// Whoever fires, one run per partition: a flag file written the way a DAG writes it (read by the
// flag watch), a DAG's data-ready (the Airflow hook's exact call), a schedule's firing (triggered
// with the Temporal client), a drift alert posted to the receiver and an operator's `ct train`, all
// at once for one partition, end as exactly one training run, the one every trigger reports,
// holding the DAG's data once (whichever of the flag and the DAG said so first).
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { startAlertReceiver, type AlertReceiver } from '../../client/alerts/receiver';
import { runCli } from '../../client/cli/program';
import { applySync, planSync } from '../../client/schedules/sync';
import { DEFAULT_FLAG_WATCH } from '../../activities/flags/await-flags';
import {
  flagWatchId,
  flagWatchQuery,
  partitionAt,
  routeDataReadyId,
  routeDataReadyWorkflowType,
  scheduledRunQuery,
  scheduledRunWorkflowType,
  scheduleId,
  trainingRunId,
  trainingRunWorkflowType,
  trainingStatusQuery,
  type FlagEvent,
} from '../../contracts';
import { ensureFlagWatches } from '../../starts/flag-watch';
import type { routeDataReady } from '../../workflows';
import { documentedIncident, postIncident } from '../helpers/alerts';
import { eventually } from '../helpers/eventually';
import { customJobTraining, flaggedData, onQueue, projectWith } from '../helpers/pipelines';
import { testStorage, uniqueId, withWorker } from '../helpers/temporal';
import { testStack } from '../setup/test-stack';

jest.setTimeout(180_000);

/**
 * The fixed-offset zone where it is about noon now: a firing now, and the partition each trigger
 * works out from now, fall on one day, hours from its midnight, whenever the suite runs.
 */
function middayZone(now: Date): string {
  const east = 12 - now.getUTCHours();
  return east === 0 ? 'Etc/GMT' : `Etc/GMT${east > 0 ? '-' : '+'}${Math.abs(east)}`;
}

const ENV = 'triggerrace';
const QUEUE = uniqueId('race');
// A schedule fires for now, not for a partition of the test's choosing: a pipeline of this run's own.
const PIPELINE = `race-${randomBytes(3).toString('hex')}`;
const SEGMENT = 'jp-instagram';
const DATASET = 'race_features';
const TZ = middayZone(new Date());
const SCHEDULE = scheduleId(ENV, PIPELINE, 'nightly');
const TOKEN = randomBytes(24).toString('hex');
const BUCKET = uniqueId('race-flags');
const WATCH = flagWatchId(ENV, BUCKET);
const DAG_SOURCE = 'airflow:race_dag.data_ready';
const iso = projectWith({
  [PIPELINE]: {
    environments: { [ENV]: onQueue(QUEUE) },
    // A second dataset nobody sends: the run waits, so the test ends with no Vertex job in flight.
    // The DAG's dataset has its flag too (its partition read in the schedule's zone).
    data: flaggedData([DATASET, 'race_labels'], {
      [DATASET]: { flag: `gs://${BUCKET}/race/{partition}/_SUCCESS`, window: { timezone: TZ } },
    }),
    training: customJobTraining,
    segments: { countries: ['JP'], sns: ['instagram'] },
    schedules: {
      nightly: { action: 'training', cron: '0 3 * * *', timezone: 'UTC', partition: { offset: 0, timezone: TZ } },
    },
    retrainOnAlert: { partition: { offset: 0, timezone: TZ } },
  },
});

afterAll(() => iso.cleanup());

/** A schedule's firing, followed to the run it reached: its scheduledRun starts the fan-out, whose child is the segment's run. */
async function fireSchedule(client: Client): Promise<string> {
  await client.schedule.getHandle(SCHEDULE).trigger();
  const fanoutId = await eventually(async () => {
    for await (const w of client.workflow.list({
      query: `WorkflowType = "${scheduledRunWorkflowType}" AND TemporalScheduledById = "${SCHEDULE}"`,
    })) {
      const s = await client.workflow.getHandle(w.workflowId, w.runId).query(scheduledRunQuery);
      if (s.state !== 'starting') return s.workflowId;
    }
  }, 60_000);
  // The fan-out has tried its segment's run: started it as a child, or found it already started.
  return eventually(async () => {
    const { events } = await client.workflow.getHandle(fanoutId).fetchHistory();
    const tried = events?.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
      ?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    const settled = events?.some(
      (e) => e.childWorkflowExecutionStartedEventAttributes || e.startChildWorkflowExecutionFailedEventAttributes,
    );
    return settled ? (tried ?? undefined) : undefined;
  }, 60_000);
}

/** `ct train` as an operator types it, in this process (its client reads TEMPORAL_ADDRESS). */
async function operatorStarts(partition: string): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    // prettier-ignore
    ['--config', iso.configPath, '--json', 'train', '--pipeline', PIPELINE, '--env', ENV, '--partition', partition, '--segment', SEGMENT],
    { out: (t) => out.push(t), err: (t) => err.push(t) },
  );
  if (code !== 0) throw new Error(`ct train exited ${code}: ${err.join('\n')}`);
  return (JSON.parse(out.join('\n')) as { workflowId: string }).workflowId;
}

/** The watch's outcome for this generation of this object, once it has one. */
async function flagOutcome(client: Client, object: string, generation: string): Promise<FlagEvent> {
  return eventually(async () => {
    const status = await client.workflow.getHandle(WATCH).query(flagWatchQuery);
    return status.recent.find((e) => e.object === object && e.generation === generation);
  }, 60_000);
}

test('a flag, a DAG, a schedule, an alert and an operator fire for one partition at once: exactly one run', async () => {
  const previousAddress = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = testStack().CT_TEST_TEMPORAL_ADDRESS;
  let receiver: AlertReceiver | undefined;
  await withWorker(
    async ({ client }) => {
      try {
        await applySync(client, await planSync(client, iso.config, ENV));
        receiver = await startAlertReceiver({
          config: iso.config,
          clientFor: () => client,
          settings: { host: '127.0.0.1', port: 0, token: TOKEN, environment: undefined, tls: undefined },
        });
        const now = new Date();
        const partition = partitionAt(now, 'daily', 0, TZ);
        const run = trainingRunId({ environment: ENV, pipeline: PIPELINE, segment: SEGMENT, partition });
        const incident = documentedIncident({
          id: `0.${randomBytes(6).toString('hex')}`,
          state: 'open',
          startedAt: Math.floor(now.getTime() / 1000),
          labels: { ct_pipeline: PIPELINE, ct_segment: SEGMENT, ct_environment: ENV },
        });
        const alertUrl = receiver.url;
        const bucket = testStorage().bucket(BUCKET);
        await bucket.create();
        // What workers/main.ts does when a worker starts: the watch of the bucket its flags are in.
        await ensureFlagWatches(client, iso.config, { environments: [ENV], taskQueue: QUEUE });
        // Its first listing (history, not a trigger) is behind it: the flag below is new to it.
        await eventually(async () => {
          const status = await client.workflow.getHandle(WATCH).query(flagWatchQuery);
          return Object.keys(status.watermarks).length === 1 ? status : undefined;
        }, 30_000);
        // What the DAG's data-ready and the flag's delivery were told: exactly one marked the data ready.
        let dagAccepted: boolean | undefined;
        let flagged: FlagEvent | undefined;

        // Each trigger fires, and says which run it reached.
        const triggers: Record<string, () => Promise<string>> = {
          // A DAG's last tasks: its part file, then the empty _SUCCESS, each in one request (no resumable session).
          flag: async () => {
            await bucket.file(`race/${partition}/part-00000.parquet`).save('rows', { resumable: false });
            const file = bucket.file(`race/${partition}/_SUCCESS`);
            await file.save('', { resumable: false });
            flagged = await flagOutcome(client, file.name, String(file.metadata.generation));
            if (flagged.outcome !== 'delivered') throw new Error(`the flag was ${flagged.outcome}: ${flagged.reason}`);
            return (flagged.runs ?? []).join(',');
          },
          // CtDataReadyHook.adata_ready's call (integrations/airflow/ct_coordinator_airflow/hook.py), made from TypeScript.
          dag: async () => {
            const report = await client.workflow.execute<typeof routeDataReady>(routeDataReadyWorkflowType, {
              args: [{ environment: ENV, dataset: DATASET, partition, source: DAG_SOURCE }],
              workflowId: routeDataReadyId({ environment: ENV, dataset: DATASET, partition }),
              taskQueue: QUEUE,
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'ALLOW_DUPLICATE',
            });
            dagAccepted = report.reached.every((r) => r.accepted);
            return report.reached.map((r) => r.workflowId).join(',');
          },
          schedule: () => fireSchedule(client),
          alert: async () => {
            const res = await postIncident(alertUrl, incident, { basic: TOKEN });
            if (res.status !== 200) throw new Error(`the alert was refused: ${JSON.stringify(res.body)}`);
            return String(res.body.workflowId);
          },
          operator: () => operatorStarts(partition),
        };
        const reached = Object.fromEntries(
          await Promise.all(Object.entries(triggers).map(async ([name, fire]) => [name, await fire()] as const)),
        );

        // Visibility has caught up with every run any trigger reached; there is exactly one, ever.
        const runs = await eventually(async () => {
          const found: string[] = [];
          for await (const w of client.workflow.list({
            query: `WorkflowType = "${trainingRunWorkflowType}" AND TaskQueue = "${QUEUE}"`,
          }))
            found.push(w.workflowId);
          return Object.values(reached).every((id) => found.includes(id)) ? found : undefined;
        }, 30_000);
        expect(runs).toEqual([run]);
        expect(reached).toEqual({ flag: run, dag: run, schedule: run, alert: run, operator: run });
        // Whoever started it, the DAG's data reached it once: the first of the DAG and its flag
        // marked it ready, the other was told it already was.
        const flagAccepted = !flagged!.alreadyReady?.includes(run);
        expect([dagAccepted, flagAccepted].filter(Boolean)).toHaveLength(1);
        const status = await client.workflow.getHandle(run).query(trainingStatusQuery);
        expect(status.datasets.map((d) => [d.dataset, d.ready, d.source])).toEqual([
          [DATASET, true, dagAccepted ? DAG_SOURCE : `gcs-flag generation ${flagged!.generation}`],
          ['race_labels', false, undefined],
        ]);
      } finally {
        await receiver?.close();
        await client.schedule
          .getHandle(SCHEDULE)
          .delete()
          .catch(() => undefined);
        for await (const w of client.workflow.list({
          query: `TaskQueue = "${QUEUE}" AND ExecutionStatus = "Running"`,
        }))
          await client.workflow
            .getHandle(w.workflowId)
            .terminate('test over')
            .catch(() => undefined);
        if (previousAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
        else process.env.TEMPORAL_ADDRESS = previousAddress;
      }
    },
    // The watch lists every 200 ms (30 s in production): the flag is read while the others fire.
    { taskQueue: QUEUE, project: iso, flagWatch: { ...DEFAULT_FLAG_WATCH, intervalMs: 200 } },
  );
});
