import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
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

async function managedIn(client: Client, environment: string) {
  const found = new Map<string, string | undefined>();
  for await (const s of client.schedule.list()) {
    if (s.memo?.managedBy !== MANAGED_BY || !s.scheduleId.startsWith(`ct:${environment}:`)) continue;
    found.set(s.scheduleId, s.typedSearchAttributes?.get(sa.scheduleHash));
  }
  return found;
}

export async function planSync(client: Client, config: PipelineConfig, environment: string): Promise<SyncPlan> {
  const desired = desiredSchedules(config, environment);
  const existing = await managedIn(client, environment);
  // An environment the config does not know is a typo, unless its last pipeline just left (then its schedules go).
  const known = Object.values(config.pipelines).some((p) => p.environments[environment]);
  if (!known && existing.size === 0) {
    const environments = [...new Set(Object.values(config.pipelines).flatMap((p) => Object.keys(p.environments)))].sort();
    throw new TrainingRequestError(`no pipeline in the config has environment "${environment}", and no schedule of it exists; environments: ${environments.join(', ')}`);
  }
  const entries: PlanEntry[] = [];
  let unchanged = 0;
  for (const d of desired) {
    if (!existing.has(d.id)) entries.push({ op: 'create', id: d.id, desired: d });
    else if (existing.get(d.id) !== d.hash) entries.push({ op: 'update', id: d.id, desired: d, changes: await changedFields(client, d) });
    else unchanged++;
  }
  const wanted = new Set(desired.map((d) => d.id));
  for (const id of existing.keys()) if (!wanted.has(id)) entries.push({ op: 'delete', id });
  return { environment, entries, unchanged };
}

async function changedFields(client: Client, d: DesiredSchedule): Promise<Record<string, { from: unknown; to: unknown }>> {
  const described = await client.schedule.getHandle(d.id).describe();
  const before = (described.action.memo?.ctFields ?? {}) as Record<string, unknown>;
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(d.fields)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(d.fields[key])) changes[key] = { from: before[key], to: d.fields[key] };
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
    state: pauseChanged ? { ...prev.state, paused: options.state?.paused ?? false, note: options.state?.note ?? 'unpaused by ct schedules sync' } : prev.state,
  }));
}

export function formatPlan(plan: SyncPlan): string {
  const lines = plan.entries.map((e) => {
    if (e.op === 'create') return `+ ${e.id}  (${Object.entries(e.desired!.fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`;
    if (e.op === 'delete') return `- ${e.id}`;
    return `~ ${e.id}  ${Object.entries(e.changes ?? {}).map(([k, c]) => `${k}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join(', ')}`;
  });
  const count = (op: PlanEntry['op']) => plan.entries.filter((e) => e.op === op).length;
  lines.push(`${plan.environment}: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${plan.unchanged} unchanged`);
  return lines.join('\n');
}
