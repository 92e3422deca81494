import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import { MANAGED_BY } from '../../contracts';
import { TrainingRequestError } from '../training';

// The day-to-day operations on this project's schedules: list, describe, pause and unpause with a
// note, trigger now, backfill a time range.

export interface ScheduleView {
  id: string;
  pipeline?: string;
  schedule?: string;
  paused: boolean;
  note?: string;
  recentActions: { scheduledAt: string; workflowId: string }[];
  nextActionTimes: string[];
}

const view = (id: string, d: ScheduleDescription): ScheduleView => ({
  id,
  pipeline: d.memo?.pipeline as string | undefined,
  schedule: d.memo?.schedule as string | undefined,
  paused: d.state.paused,
  note: d.state.note,
  recentActions: d.info.recentActions.map((a) => ({
    scheduledAt: a.scheduledAt.toISOString(),
    workflowId: a.action.workflow.workflowId,
  })),
  nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
});

export async function listSchedules(
  client: Client,
  environment?: string,
): Promise<{ id: string; paused: boolean; note?: string; pipeline?: string }[]> {
  const out = [];
  for await (const s of client.schedule.list()) {
    if (s.memo?.managedBy !== MANAGED_BY || (environment && !s.scheduleId.startsWith(`ct:${environment}:`))) continue;
    out.push({
      id: s.scheduleId,
      paused: s.state.paused,
      note: s.state.note,
      pipeline: s.memo.pipeline as string | undefined,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

async function managed(client: Client, id: string) {
  const handle = client.schedule.getHandle(id);
  let d: ScheduleDescription;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new TrainingRequestError(`no schedule ${id}`);
    throw err;
  }
  if (d.memo?.managedBy !== MANAGED_BY)
    throw new TrainingRequestError(`schedule ${id} is not managed by ct-coordinator; use the Temporal CLI for it`);
  return { handle, d };
}

export async function describeSchedule(client: Client, id: string): Promise<ScheduleView> {
  return view(id, (await managed(client, id)).d);
}

export async function pauseSchedule(
  client: Client,
  id: string,
  pause: boolean,
  note: string,
  opts: { catchUp?: boolean } = {},
): Promise<ScheduleView & { caughtUp?: CatchUp }> {
  if (!note.trim()) throw new TrainingRequestError(`say why (--note): it shows in describe and in the UI`);
  const { handle, d } = await managed(client, id);
  await (pause ? handle.pause(note) : handle.unpause(note));
  const caughtUp = !pause && opts.catchUp && d.state.paused ? await catchUp(handle, d, new Date()) : undefined;
  const applied = await describeWhen(handle, (now) => now.state.paused === pause && now.state.note === note);
  return { ...view(id, applied), ...(caughtUp ? { caughtUp } : {}) };
}

/**
 * A pause is a signal to the schedule's own workflow and a describe a query of it, so a describe
 * just after can still show the state before (a CI run printed `paused: true` for an unpause): read
 * until it shows the change, for 10 s at most, then what the server last said.
 */
async function describeWhen(
  handle: ScheduleHandle,
  shows: (d: ScheduleDescription) => boolean,
  timeoutMs = 10_000,
): Promise<ScheduleDescription> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await handle.describe();
    if (shows(d) || Date.now() >= until) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CatchUp {
  from: string;
  to: string;
  /** False when the pause ended before any firing it spanned is still within the catch-up window. */
  requested: boolean;
}

/**
 * The server skips every firing that falls in a pause (catchupWindow covers a server that was down,
 * not a pause): on unpause, run those still within the schedule's catchupWindow, as a backfill with
 * the schedule's own overlap policy. The pause began no earlier than the schedule's last update
 * (the pause itself, or a sync since) and after its last firing; a firing counted twice is harmless,
 * since it lands on its partition's one run.
 */
async function catchUp(handle: ScheduleHandle, d: ScheduleDescription, now: Date): Promise<CatchUp> {
  const bounds = [
    d.info.lastUpdatedAt ?? d.info.createdAt,
    ...d.info.recentActions.map((a) => a.scheduledAt),
    new Date(now.getTime() - d.policies.catchupWindow),
  ];
  // The firing at the pause's own first instant ran already if it is the last action: start just after.
  const from = new Date(Math.max(...bounds.map((t) => t.getTime())) + 1);
  if (!(from < now)) return { from: from.toISOString(), to: now.toISOString(), requested: false };
  await handle.backfill([{ start: from, end: now, overlap: d.policies.overlap }]);
  return { from: from.toISOString(), to: now.toISOString(), requested: true };
}

export async function triggerSchedule(client: Client, id: string): Promise<void> {
  const { handle } = await managed(client, id);
  // The schedule's own overlap policy: the server then follows the firing, so pause-on-failure applies.
  await handle.trigger();
}

/**
 * Runs every firing between from and to (inclusive of from). Each firing's scheduledRun lands on the
 * partition's one run: days that already ran start nothing new.
 */
export async function backfillSchedule(client: Client, id: string, from: Date, to: Date): Promise<void> {
  if (!(from < to)) throw new TrainingRequestError('--from must be before --to');
  const { handle } = await managed(client, id);
  await handle.backfill([{ start: from, end: to, overlap: 'ALLOW_ALL' }]);
}
