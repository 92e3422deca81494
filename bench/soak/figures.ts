import { trainingRunId } from '../../contracts/training-run';
import { bareState } from '../../contracts/vertex-job';
import { jobId, type OwnedJob } from './ownership';
import type { World } from './world';

// The soak's figures beside the invariants: runs by outcome, jobs by state, how long data-ready took
// to become a Vertex job and a job's end to be noticed, and history size per run (so that growth,
// or continue-as-new not doing its job, shows).

export interface Spread {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

function spread(samples: number[]): Spread {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : null);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s.at(-1)! : null };
}

const count = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

export function soakFigures(world: World, jobs: OwnedJob[]) {
  const runs: Record<string, Record<string, number>> = {};
  for (const x of world.executions) {
    const outcome = world.digests.get(x.runId)?.resultStatus ?? x.status.toLowerCase();
    count((runs[x.type] ??= {}), outcome);
  }

  const jobStates: Record<string, Record<string, number>> = {};
  for (const { job } of jobs) count((jobStates[job.kind] ??= {}), bareState(job.state));
  const perAttempt = new Map<string, number>();
  for (const j of jobs) perAttempt.set(j.attemptKey, (perAttempt.get(j.attemptKey) ?? 0) + 1);

  return {
    runs,
    openRuns: world.executions.filter((x) => x.status === 'RUNNING').length,
    jobs: {
      total: jobs.length,
      byKind: jobStates,
      unowned: jobs.filter((j) => !j.owner).length,
      attemptsWithTwins: [...perAttempt.values()].filter((n) => n > 1).length,
    },
    dataReadyToJobCreatedMs: spread(dataReadyToJob(world, jobs)),
    endToNoticedMs: spread(endToNoticed(world, jobs)),
    history: historySizes(world),
    faults: world.ledger.faults.reduce<Record<string, number>>((by, f) => (count(by, f.kind), by), {}),
    read: world.read,
  };
}

/** From the data-ready that completed a partition's data (each dataset's first) to its run's first job. */
function dataReadyToJob(world: World, jobs: OwnedJob[]): number[] {
  const firstByDataset = new Map<string, Map<string, number>>();
  for (const d of world.ledger.dataReady) {
    if (d.late || d.duplicate) continue;
    const segment = d.segment === '' || d.segment === 'all' ? undefined : d.segment;
    const key = trainingRunId({ pipeline: d.pipeline, environment: d.environment, partition: d.partition, segment });
    const m = firstByDataset.get(key) ?? new Map<string, number>();
    m.set(d.dataset, Math.min(m.get(d.dataset) ?? Infinity, Date.parse(d.sentAt)));
    firstByDataset.set(key, m);
  }
  const firstJob = new Map<string, number>();
  for (const { job, owner } of jobs) {
    if (!owner || owner.execution.type !== 'trainingRun') continue;
    const t = Date.parse(job.createTime);
    firstJob.set(owner.execution.workflowId, Math.min(firstJob.get(owner.execution.workflowId) ?? Infinity, t));
  }
  const out: number[] = [];
  for (const [key, datasets] of firstByDataset) {
    const created = firstJob.get(key);
    const arrived = Math.max(...datasets.values());
    if (created !== undefined && created >= arrived) out.push(created - arrived);
  }
  return out;
}

/** From Vertex's end time of a job to the watch activity's completion that told its run. */
function endToNoticed(world: World, jobs: OwnedJob[]): number[] {
  const ended = new Map(jobs.flatMap(({ job }) => (job.endTime ? [[jobId(job.name), Date.parse(job.endTime)]] : [])));
  const out: number[] = [];
  for (const d of world.digests.values())
    for (const w of d.watchEnds) {
      const end = ended.get(jobId(w.job));
      if (end !== undefined) out.push(Math.max(0, w.seenAt - end));
    }
  return out;
}

function historySizes(world: World) {
  const byType = new Map<string, { events: number[]; bytes: number[] }>();
  for (const x of world.executions) {
    const t = byType.get(x.type) ?? { events: [], bytes: [] };
    t.events.push(x.historyLength);
    if (x.historySize !== undefined) t.bytes.push(x.historySize);
    byType.set(x.type, t);
  }
  const all = world.executions;
  const largest = [...all]
    .sort((a, b) => (b.historySize ?? 0) - (a.historySize ?? 0))
    .slice(0, 3)
    .map((x) => ({ run: `${x.workflowId}/${x.runId}`, events: x.historyLength, bytes: x.historySize }));
  // By quarter of the soak (by start): a p99 that climbs from one quarter to the next is growth.
  const starts = all.map((x) => x.startTime);
  const [from, to] = [Math.min(...starts), Math.max(...starts) + 1];
  const quarters = [0, 1, 2, 3].map((q) => {
    const runs = all.filter((x) => Math.floor(((x.startTime - from) / (to - from)) * 4) === q);
    return {
      runs: runs.length,
      eventsP99: spread(runs.map((x) => x.historyLength)).p99,
      bytesP99: spread(runs.flatMap((x) => x.historySize ?? [])).p99,
    };
  });
  return {
    events: spread(all.map((x) => x.historyLength)),
    bytes: spread(all.flatMap((x) => x.historySize ?? [])),
    byType: Object.fromEntries(
      [...byType].map(([type, t]) => [
        type,
        { runs: t.events.length, events: spread(t.events), bytes: spread(t.bytes) },
      ]),
    ),
    byQuarter: all.length ? quarters : [],
    largest,
  };
}
