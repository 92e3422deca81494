import type { Storage } from '@google-cloud/storage';
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';
import { msToTs, optionalTsToMs } from '@temporalio/common/lib/time';
import { parseConfig } from '../../config/load-config';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, type Prices } from '../../config/prices';
import type { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import type { JobView, ModelView } from '../../emulators/vertex-ai/control-schema';
import { mapBounded } from './bounded';
import { ctCostOf, type CtCost, type OnHistory } from './ct-cost';
import { digestHistory, type HistoryDigest } from './history-digest';
import type { SoakLedger } from './ledger';
import { readFileSync } from 'node:fs';

// Everything the checker reads, and only from outside the workers: Temporal's visibility and
// histories, the Vertex emulator's control API (jobs, the Model Registry with its alias history),
// GCS, and the schedules' own descriptions. The invariants are pure functions of this.

type Event = proto.api.history.v1.IHistoryEvent;

export interface SoakClients {
  temporal: Client;
  vertex: VertexEmulatorControl;
  storage: Storage;
  /** The price table `ct cost` would use (default: config/prices.yaml or CT_PRICES). */
  prices?: Prices;
}

export interface CheckOptions {
  /** Histories fetched at once (default 16). */
  concurrency?: number;
  /** A run still open at the check is not a failure of "one terminal outcome" (default: it is). */
  allowOpen?: boolean;
  /** How far a manifest's write time may be from the champion's move (clock and timestamp resolution; default 1 s). */
  manifestSlackMs?: number;
  /** Runs, jobs and firings this long before the ledger's start still belong to the soak (default 60 s). */
  startSlackMs?: number;
}

export interface Execution {
  type: string;
  workflowId: string;
  runId: string;
  status: WorkflowExecutionStatusName;
  startTime: number;
  closeTime?: number;
  historyLength: number;
  historySize?: number;
  parent?: { workflowId: string; runId: string };
  searchAttributes: Record<string, string | undefined>;
}

export interface ManifestObject {
  uri: string;
  generation?: string;
  /** When this generation was written (GCS `updated`). */
  writtenAt?: number;
  manifest?: { model?: string; version?: string };
  /** Why it could not be read. */
  error?: string;
}

export interface ScheduleFacts {
  scheduleId: string;
  windowStart: number;
  windowEnd: number;
  /** The times the server's own expansion of its spec says were due in the window. */
  due: number[];
  /** Workflows it started: their nominal (TemporalScheduledStartTime) times. */
  started: { workflowId: string; runId: string; scheduledAt: number }[];
  jitterMs: number;
  overlap?: string;
  paused?: boolean;
  skippedOverlap: number;
  missedCatchupWindow: number;
  error?: string;
}

export interface World {
  ledger: SoakLedger;
  config: PipelineConfig;
  since: number;
  executions: Execution[];
  digests: Map<string, HistoryDigest>;
  /** `ct cost` of every closed run whose result carries its own cost, by run id. */
  costs: Map<string, CtCost>;
  jobs: JobView[];
  models: ModelView[];
  manifests: ManifestObject[];
  schedules: ScheduleFacts[];
  /** What the check read and how long it took: in all, listing visibility, reading histories (and `ct cost`). */
  read: { executions: number; histories: number; ms: number; listMs: number; historiesMs: number };
}

/** Types whose histories the invariants read. */
const DIGESTED = new Set(['trainingRun', 'trainingFanout', 'predictionRun', 'predictionSegment', 'scheduledRun']);
/** Types whose cost includes their children's. */
const PARENTS = new Set(['trainingFanout', 'predictionRun']);

const first = (v: unknown): string | undefined => {
  const x: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  if (x instanceof Date) return x.toISOString();
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined;
};

export async function readWorld(ledger: SoakLedger, clients: SoakClients, opts: CheckOptions = {}): Promise<World> {
  const t0 = performance.now();
  const config = parseConfig(readFileSync(ledger.stack.configPath, 'utf8'), ledger.stack.configPath);
  const since = Date.parse(ledger.startedAt) - (opts.startSlackMs ?? 60_000);
  const executions = await listExecutions(clients.temporal, ledger, config, since);
  const listMs = performance.now() - t0;
  const digests = new Map<string, HistoryDigest>();
  const costs = new Map<string, CtCost>();
  const prices = clients.prices ?? pricesOnce();
  const concurrency = opts.concurrency ?? 16;
  const byRun = new Map(executions.map((x) => [x.runId, x]));
  let histories = 0;
  const digest = async (x: Execution, events: Event[], onHistory?: OnHistory) => {
    histories++;
    const d = digestHistory(x.workflowId, x.runId, x.type, events);
    digests.set(x.runId, d);
    if (d.ownCost && x.status !== 'CONTINUED_AS_NEW')
      costs.set(x.runId, await ctCostOf(clients.temporal, { ...x, events }, prices, { concurrency, onHistory }));
  };
  // A parent's cost reads its earlier generations and its children: each is digested from that
  // same read (a child by its id alone is its latest run, which its first-run id names), not fetched twice.
  const reuse: OnHistory = async (workflowId, runId, events) => {
    const x = byRun.get(runId ?? events[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? '');
    if (x?.workflowId === workflowId && DIGESTED.has(x.type) && !digests.has(x.runId)) await digest(x, events);
  };
  const fetch = async (x: Execution) =>
    (await clients.temporal.workflow.getHandle(x.workflowId, x.runId).fetchHistory()).events ?? [];
  const parents = executions.filter((x) => PARENTS.has(x.type) && x.status !== 'CONTINUED_AS_NEW');
  await mapBounded(parents, 2, async (x) => digest(x, await fetch(x), reuse));
  await mapBounded(
    executions.filter((x) => DIGESTED.has(x.type) && !digests.has(x.runId)),
    concurrency,
    async (x) => digest(x, await fetch(x)),
  );
  const historiesMs = performance.now() - t0 - listMs;
  const projects = [
    ...new Set(Object.values(config.pipelines).flatMap((p) => Object.values(p.environments).map((e) => e.project))),
  ];
  const jobs = (await Promise.all(projects.map((project) => clients.vertex.jobs({ project })))).flat();
  const models = (await Promise.all(projects.map((project) => clients.vertex.models(project)))).flat();
  const manifests = await readManifests(clients.storage, [...digests.values()], opts.concurrency ?? 16);
  const schedules = await Promise.all(ledger.schedules.map((s) => readSchedule(clients.temporal, s)));
  return {
    ledger,
    config,
    since,
    executions,
    digests,
    costs,
    jobs: jobs.filter((j) => Date.parse(j.createTime) >= since),
    models,
    manifests,
    schedules,
    read: {
      executions: executions.length,
      histories,
      ms: Math.round(performance.now() - t0),
      listMs: Math.round(listMs),
      historiesMs: Math.round(historiesMs),
    },
  };
}

/** Every workflow run of the soak's task queues started since its start (visibility pages through them). */
async function listExecutions(
  temporal: Client,
  ledger: SoakLedger,
  config: PipelineConfig,
  since: number,
): Promise<Execution[]> {
  const queues = new Set([ledger.stack.taskQueue]);
  for (const p of Object.values(config.pipelines))
    for (const e of Object.values(p.environments)) queues.add(e.temporal.taskQueue);
  const query = `StartTime >= "${new Date(since).toISOString()}" AND (${[...queues].map((q) => `TaskQueue = "${q}"`).join(' OR ')})`;
  const out: Execution[] = [];
  for await (const w of temporal.workflow.list({ query, pageSize: 1000 })) {
    out.push({
      type: w.type,
      workflowId: w.workflowId,
      runId: w.runId,
      status: w.status.name,
      startTime: w.startTime.getTime(),
      closeTime: w.closeTime?.getTime(),
      historyLength: w.historyLength,
      historySize: w.historySize,
      parent: w.parentExecution?.workflowId
        ? { workflowId: w.parentExecution.workflowId, runId: w.parentExecution.runId ?? '' }
        : undefined,
      searchAttributes: Object.fromEntries(Object.entries(w.searchAttributes).map(([k, v]) => [k, first(v)])),
    });
  }
  return out;
}

/** Every generation of every manifest a run announced (one, unless the bucket keeps versions). */
async function readManifests(
  storage: Storage,
  digests: HistoryDigest[],
  concurrency: number,
): Promise<ManifestObject[]> {
  const uris = [...new Set(digests.flatMap((d) => d.announcements.flatMap((a) => a.manifestUri ?? [])))];
  const perUri = await mapBounded(uris, concurrency, async (uri): Promise<ManifestObject[]> => {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) return [{ uri, error: 'not a gs:// URI' }];
    const bucket = storage.bucket(m[1]!);
    try {
      const [files] = await bucket.getFiles({ prefix: m[2], versions: true });
      const versions = files.filter((f) => f.name === m[2]);
      if (!versions.length) return [{ uri, error: 'announced, but not in GCS' }];
      return await Promise.all(
        versions.map(async (f) => {
          const generation = f.metadata.generation === undefined ? undefined : String(f.metadata.generation);
          const [buf] = await bucket.file(f.name, generation ? { generation } : {}).download();
          const updated = f.metadata.updated ?? f.metadata.timeCreated;
          try {
            return {
              uri,
              generation,
              writtenAt: updated ? Date.parse(String(updated)) : undefined,
              manifest: JSON.parse(buf.toString()) as ManifestObject['manifest'],
            };
          } catch {
            return { uri, generation, error: 'not JSON' };
          }
        }),
      );
    } catch (err) {
      return [{ uri, error: err instanceof Error ? err.message : String(err) }];
    }
  });
  return perUri.flat();
}

async function readSchedule(temporal: Client, s: SoakLedger['schedules'][number]): Promise<ScheduleFacts> {
  const windowStart = Date.parse(s.windowStart);
  const windowEnd = Date.parse(s.windowEnd);
  const facts: ScheduleFacts = {
    scheduleId: s.scheduleId,
    windowStart,
    windowEnd,
    due: [],
    started: [],
    jitterMs: 0,
    skippedOverlap: 0,
    missedCatchupWindow: 0,
  };
  try {
    const d = await temporal.schedule.getHandle(s.scheduleId).describe();
    facts.jitterMs = d.spec.jitter ?? 0;
    facts.overlap = String(d.policies.overlap);
    facts.paused = d.state.paused;
    facts.skippedOverlap = d.info.numActionsSkippedOverlap;
    facts.missedCatchupWindow = d.info.numActionsMissedCatchupWindow;
    const matching = await temporal.workflowService.listScheduleMatchingTimes({
      namespace: temporal.options.namespace,
      scheduleId: s.scheduleId,
      startTime: msToTs(windowStart),
      endTime: msToTs(windowEnd),
    });
    facts.due = (matching.startTime ?? [])
      .map((t) => optionalTsToMs(t)!)
      .filter((t) => t >= windowStart && t <= windowEnd);
  } catch (err) {
    facts.error = err instanceof Error ? err.message : String(err);
    return facts;
  }
  const query = `TemporalScheduledById = "${s.scheduleId}" AND TemporalScheduledStartTime >= "${new Date(windowStart - facts.jitterMs - 1000).toISOString()}"`;
  for await (const w of temporal.workflow.list({ query, pageSize: 1000 })) {
    const at = first(w.searchAttributes.TemporalScheduledStartTime);
    if (at) facts.started.push({ workflowId: w.workflowId, runId: w.runId, scheduledAt: Date.parse(at) });
  }
  return facts;
}
