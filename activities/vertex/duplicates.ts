import { Context } from '@temporalio/activity';
import { stillRunning, type JobLabel } from '../../contracts';
import { nothingToCancel } from './errors';

// CustomJob and BatchPredictionJob ids are made by Vertex, so a retried submit finds its earlier
// job by a label instead of by id. That misses a job whose create committed after the caller gave
// up (DEADLINE_EXCEEDED: the server went on) or that a lagging List did not show yet; the retry
// then makes a second job with the same label. Nothing can stop that second create, but the watch
// can make sure no such job runs on unwatched: at the start of every chunk and once the watched
// job has ended it lists the label and cancels every other live job that carries it.

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
