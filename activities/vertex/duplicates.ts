import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { STILL_RUNNING, stillRunning, type JobLabel } from '../../contracts';
import { cancelVertexJob, grpcCode, nothingToCancel } from './errors';
import { isoTime, type VertexJobResource } from './progress';

// CustomJob and BatchPredictionJob ids are made by Vertex, so a retried submit finds its earlier
// job by a label instead of by id. That misses a job whose create committed after the caller gave
// up (DEADLINE_EXCEEDED: the server went on) or that a lagging List did not show yet; the retry
// then makes a second job with the same label. Nothing can stop that second create, but the watch
// can make sure no such job runs on unwatched: at the start of every chunk and once the watched
// job has ended it lists the label and cancels every other live job that carries it. A late create
// can land after a short job has ended, so a retried submit marks its job with `twinsUntil` and
// the watch's end keeps sweeping until then (sweepUntilTwinsCannotLand).

/**
 * A retried submit that finds no earlier job looks once more after this long before it creates:
 * Vertex's listings can lag behind a create that an earlier try's lost answer had made.
 */
export const LIST_SETTLE_MS = 5_000;

/**
 * The job an earlier try of this submit made, if any: the oldest listed (a late create may have
 * made two). On a retry an empty listing is read again after LIST_SETTLE_MS before it is believed.
 * A first try lists nothing: its label is new (one per run and attempt, or per child run), so no
 * earlier job can carry it, and at thousands of submits a List each would spend the region's read
 * quota (bench:scale saw 429s from these alone).
 */
export async function findEarlierJob<J>(list: () => Promise<J[]>): Promise<J | undefined> {
  if (Context.current().info.attempt === 1) return undefined;
  const found = (await list()).at(-1);
  if (found) return found;
  await Context.current().sleep(LIST_SETTLE_MS);
  return (await list()).at(-1);
}

/** gRPC codes after which a create surely made no job (quota, the budget's refusal, a rejected request). */
const NOT_CREATED = new Set([3, 5, 6, 7, 8, 9, 11, 12, 16]);

/**
 * Heartbeat details a submit leaves for its retries when its create may have made a job after all
 * (DEADLINE_EXCEEDED, UNAVAILABLE, …). The server keeps the last details across attempts, so a
 * later try that heartbeats nothing leaves them standing; a worker killed mid-create leaves none,
 * but its retry comes a timeout later, when a late create has long landed and the listing finds it.
 */
interface CreateInDoubt {
  createInDoubt: true;
}

/** Call with a create's error before failing: records whether a job may exist all the same. */
export function noteFailedCreate(err: unknown): void {
  const code = grpcCode(err);
  if (code !== undefined && NOT_CREATED.has(code)) return;
  Context.current().heartbeat({ createInDoubt: true } satisfies CreateInDoubt);
}

/**
 * `twinsUntil` for a submit's job: set when an earlier try's create may still land. Every earlier
 * try sent its create before this retry started, so the window counts from now. A retry after
 * 429s alone sets none: those creates made nothing, and the watch ends as soon as the job does.
 */
export function twinsWindow(windowMs: number): { twinsUntil?: string } {
  const { info } = Context.current();
  const details = info.heartbeatDetails as Partial<CreateInDoubt> | undefined;
  if (info.attempt === 1 || !details?.createInDoubt) return {};
  return { twinsUntil: new Date(Date.now() + windowMs).toISOString() };
}

/**
 * After the job has ended: sweeps its label every LIST_SETTLE_MS until `twinsUntil` has passed.
 * At `deadline` (the chunk's end) it fails with STILL_RUNNING so the next attempt sweeps on: the
 * run moves on only once no twin can land.
 */
export async function sweepUntilTwinsCannotLand(
  job: { name: string; twinsUntil?: string },
  sweep: () => Promise<unknown>,
  deadline: number,
): Promise<void> {
  const until = job.twinsUntil ? Date.parse(job.twinsUntil) : Number.NaN;
  for (;;) {
    await sweep();
    const now = Date.now();
    if (!(now < until)) return;
    if (now >= deadline)
      throw ApplicationFailure.create({
        type: STILL_RUNNING,
        message: `${job.name} has ended; a late create of its attempt can land until ${job.twinsUntil}, so the next attempt sweeps on`,
      });
    await Context.current().sleep(Math.min(LIST_SETTLE_MS, until - now, deadline - now));
  }
}

/**
 * After a create made while an earlier try's create may still land (`twinsUntil` set): the
 * attempt's job is the oldest with its label. An earlier try's job can land between the lookup and
 * this create (the create waited for the budget, up to CT_VERTEX_BUDGET_MAX_WAIT_MS) and end before
 * any watch lists it; so that one is kept, whatever its state, and the job just made is cancelled.
 */
export async function keepEarliest<J extends VertexJobResource & { name?: string | null }>(
  created: J,
  list: () => Promise<J[]>,
  cancel: (name: string) => Promise<unknown>,
): Promise<J> {
  const createdAt = (j: J) => Date.parse(isoTime(j.createTime) ?? '') || Infinity;
  const earliest = (await list()).reduce<J>((a, b) => (createdAt(b) < createdAt(a) ? b : a), created);
  if (!earliest.name || earliest.name === created.name) return created;
  await cancelVertexJob(created.name!, cancel);
  Context.current().log.warn('an earlier try’s job of this attempt landed before ours: kept it, cancelled ours', {
    kept: earliest.name,
    cancelled: created.name,
  });
  return earliest;
}

export interface DuplicateSweep {
  list: (parent: string, filter: string) => Promise<{ name?: string | null; state?: unknown }[]>;
  cancel: (name: string) => Promise<unknown>;
}

/** Cancels the other live jobs labelled like `job`; returns their names. */
export async function cancelDuplicates(
  job: { name: string; findBy?: JobLabel },
  ops: DuplicateSweep,
): Promise<string[]> {
  if (!job.findBy) return [];
  const parent = job.name.replace(/\/[^/]+\/[^/]+$/, '');
  const others = (await ops.list(parent, `labels.${job.findBy.key}="${job.findBy.value}"`)).filter(
    (j) => j.name && j.name !== job.name && stillRunning(j.state),
  );
  for (const j of others) {
    try {
      await ops.cancel(j.name!);
    } catch (err) {
      // It ended meanwhile or is gone: nothing left running.
      if (!nothingToCancel(err)) throw err;
    }
    Context.current().log.warn('cancelled a duplicate Vertex job of this attempt (its create committed late)', {
      job: j.name,
      kept: job.name,
    });
  }
  return others.map((j) => j.name!);
}
