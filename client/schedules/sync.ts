import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import { environmentsOf } from '../../config/runs';
import { MANAGED_BY, searchAttributes as sa } from '../../contracts';
import { TrainingRequestError } from '../training';
import { desiredSchedules, type DesiredSchedule } from './desired';

// `ct schedules sync --env E`: a plan (+ create, ~ update with the changed fields, − delete) and its
// application. Only schedules this project made (memo managedBy) in this environment are compared
// or deleted; any other schedule in the namespace is never touched. Updates happen in place, so
// a schedule keeps its history and an operator's pause unless the config's `paused` changed.

export interface PlanEntry {
  op: 'create' | 'update' | 'delete';
  id: string;
  /** For updates: each changed field, before → after. */
  changes?: Record<string, { from: unknown; to: unknown }>;
  desired?: DesiredSchedule;
}

export interface SyncPlan {
  environment: string;
  entries: PlanEntry[];
  unchanged: number;
}

/** What visibility lists: fast, but eventually consistent (a schedule just created or deleted may be missing or linger). */
async function listedIn(client: Client, environment: string) {
  const found = new Map<string, string | undefined>();
  for await (const s of client.schedule.list()) {
    if (s.memo?.managedBy !== MANAGED_BY || !s.scheduleId.startsWith(`ct:${environment}:`)) continue;
    found.set(s.scheduleId, s.typedSearchAttributes?.get(sa.scheduleHash));
  }
  return found;
}

/** The schedule as it is now (describe is read from the schedule itself), or undefined if it does not exist. */
async function describeNow(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  return client.schedule
    .getHandle(id)
    .describe()
    .catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
}

export async function planSync(client: Client, config: PipelineConfig, environment: string): Promise<SyncPlan> {
  const desired = desiredSchedules(config, environment);
  const listed = await listedIn(client, environment);
  // An environment the config does not know is a typo, unless its last pipeline just left (then its schedules go).
  const known = Object.values(config.pipelines).some((p) => p.environments[environment]);
  if (!known && listed.size === 0) {
    const environments = environmentsOf(config);
    throw new TrainingRequestError(
      `no pipeline in the config has environment "${environment}", and no schedule of it exists; environments: ${environments.join(', ')}`,
    );
  }
  // The list decides only the no-op case (listed with the wanted hash: one list call for a sync that
  // changes nothing). Anything else is checked with describe, so a sync right after another one plans
  // from what exists, not from a lagging list (no duplicate create, no phantom delete).
  const entries: PlanEntry[] = [];
  let unchanged = 0;
  for (const d of desired) {
    if (listed.get(d.id) === d.hash) {
      unchanged++;
      continue;
    }
    const now = await describeNow(client, d.id);
    if (!now) entries.push({ op: 'create', id: d.id, desired: d });
    else if (now.memo?.managedBy !== MANAGED_BY)
      throw new TrainingRequestError(
        `schedule ${d.id} exists but was not made by ct (no managedBy memo); delete or rename it, sync never takes over a schedule`,
      );
    else if (now.typedSearchAttributes.get(sa.scheduleHash) === d.hash) unchanged++;
    else entries.push({ op: 'update', id: d.id, desired: d, changes: changedFields(now, d) });
  }
  const wanted = new Set(desired.map((d) => d.id));
  for (const id of listed.keys())
    if (!wanted.has(id) && (await describeNow(client, id))) entries.push({ op: 'delete', id });
  return { environment, entries, unchanged };
}

function changedFields(
  described: ScheduleDescription,
  d: DesiredSchedule,
): Record<string, { from: unknown; to: unknown }> {
  const before = (described.action.memo?.ctFields ?? {}) as Record<string, unknown>;
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(d.fields)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(d.fields[key]))
      changes[key] = { from: before[key], to: d.fields[key] };
  }
  return changes;
}

/** Applies a plan; returns how many writes it made. A few at a time: the server's RPS limits are per namespace. */
export async function applySync(client: Client, plan: SyncPlan, concurrency = 16): Promise<number> {
  const queue = [...plan.entries];
  let writes = 0;
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      await applyOne(client, e);
      writes++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return writes;
}

async function applyOne(client: Client, e: PlanEntry): Promise<void> {
  if (e.op === 'create') {
    await client.schedule.create(e.desired!.options);
    return;
  }
  const handle = client.schedule.getHandle(e.id);
  if (e.op === 'delete') {
    await handle.delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
    return;
  }
  const { options } = e.desired!;
  const pauseChanged = e.changes && 'pausedNote' in e.changes;
  await handle.update((prev) => ({
    ...prev,
    spec: options.spec,
    action: options.action,
    policies: options.policies ?? {},
    typedSearchAttributes: options.typedSearchAttributes,
    // An operator's pause (or unpause) survives a sync, unless the config's own pause changed.
    state: pauseChanged
      ? {
          ...prev.state,
          paused: options.state?.paused ?? false,
          note: options.state?.note ?? 'unpaused by ct schedules sync',
        }
      : prev.state,
  }));
}

export function formatPlan(plan: SyncPlan): string {
  const lines = plan.entries.map((e) => {
    if (e.op === 'create')
      return `+ ${e.id}  (${Object.entries(e.desired!.fields)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ')})`;
    if (e.op === 'delete') return `- ${e.id}`;
    return `~ ${e.id}  ${Object.entries(e.changes ?? {})
      .map(([k, c]) => `${k}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
      .join(', ')}`;
  });
  const count = (op: PlanEntry['op']) => plan.entries.filter((e) => e.op === op).length;
  lines.push(
    `${plan.environment}: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${plan.unchanged} unchanged`,
  );
  return lines.join('\n');
}
