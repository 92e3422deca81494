import { z } from 'zod';
import { Duration, PLACEHOLDERS, TimeZone } from './primitives';

// Flag-file triggers, under a pipeline's `data:` section: a dataset's partition is ready when the
// flag object its Airflow DAG already writes exists in GCS (`_SUCCESS` in the partition's folder,
// or a flag named after the partition). The flag watch (workflows/flag-watch.ts) lists them and
// delivers the same data-ready the DAG would have sent; docs/triggers.md is the user's page.

/** Placeholders read from a flag's object name; the others are the environment's, filled before listing. */
export const FLAG_CAPTURES = ['partition', 'segment', 'country', 'sns'] as const;
export const FLAG_FIXED = ['environment', 'project', 'region', 'pipeline'] as const;

const placeholdersIn = (s: string) => [...s.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
const FLAG_URI = /^gs:\/\/([a-z0-9{][a-z0-9._{}-]{1,221}[a-z0-9}])\/(.+)$/;

/** The bucket and object parts of a flag template, or undefined when it is no gs:// URI. */
export function splitFlagUri(uri: string): { bucket: string; object: string } | undefined {
  const m = FLAG_URI.exec(uri);
  return m ? { bucket: m[1]!, object: m[2]! } : undefined;
}

/** Why a flag template cannot be read back into a dataset and partition; undefined when it can. */
export function flagTemplateProblem(uri: string): string | undefined {
  const parts = splitFlagUri(uri);
  if (!parts) return 'must be a gs://bucket/object template';
  const all = placeholdersIn(uri);
  const unknown = all.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  if (unknown.length)
    return `unknown placeholder {${unknown[0]}}; flags may use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
  const inBucket = placeholdersIn(parts.bucket).filter((p) => !(FLAG_FIXED as readonly string[]).includes(p));
  if (inBucket.length)
    return `the bucket may use only ${FLAG_FIXED.map((p) => `{${p}}`).join(', ')}, not {${inBucket[0]}}: the watch lists one bucket per environment`;
  const captured = placeholdersIn(parts.object).filter((p) => (FLAG_CAPTURES as readonly string[]).includes(p));
  if (captured.filter((p) => p === 'partition').length !== 1)
    return 'the object name must contain {partition} exactly once: the partition is read from it';
  const twice = captured.find((p, i) => captured.indexOf(p) !== i);
  if (twice) return `{${twice}} may appear once in the object name`;
  if (/\}\{/.test(parts.object))
    return 'put a literal (such as / or _) between two placeholders, or the name reads two ways';
  if (parts.object.startsWith('{'))
    return 'the object name must start with a literal folder or name: the watch lists by it';
  return undefined;
}

export const FlagTrigger = z.strictObject({
  /**
   * The flag object: `gs://bucket/path/{partition}/_SUCCESS` or `gs://b/flags/sales_{partition}.done`.
   * {partition} is read from the name (in the pipeline's format); {sns}, {country} and {segment} too,
   * when the dataset's name uses them; {environment}, {project}, {region} and {pipeline} are filled in.
   */
  flag: z.string().superRefine((uri, ctx) => {
    const problem = flagTemplateProblem(uri);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /**
   * Which flags count, by when they were written: from `early` before their partition begins to
   * `late` after it ends, the partition read as wall-clock time in `timezone`. A flag outside is
   * refused with the reason (a backfill rewriting last year's flags starts nothing).
   */
  window: z
    .strictObject({
      late: Duration.prefault('7d'),
      early: Duration.prefault('0s'),
      timezone: TimeZone.default('UTC'),
    })
    .prefault({}),
});
export type FlagTrigger = z.output<typeof FlagTrigger>;

/** A dataset's flag, keyed by the dataset as `datasets` names it (a template such as "{sns}_posts" included). */
export const FlagTriggers = z.record(z.string(), FlagTrigger);

/**
 * Checks a pipeline's flags against its datasets: each key is one of them, and the flag names every
 * segment placeholder the dataset's name uses (the dataset is read back from the flag).
 */
export function flagTriggerIssues(
  datasets: readonly string[],
  flags: Record<string, FlagTrigger>,
): { dataset: string; message: string }[] {
  const issues: { dataset: string; message: string }[] = [];
  for (const [dataset, trigger] of Object.entries(flags)) {
    if (!datasets.includes(dataset)) {
      issues.push({ dataset, message: `not one of this pipeline's datasets (${datasets.join(', ')})` });
      continue;
    }
    const object = splitFlagUri(trigger.flag)?.object ?? '';
    const missing = placeholdersIn(dataset).filter(
      (p) => (FLAG_CAPTURES as readonly string[]).includes(p) && !placeholdersIn(object).includes(p),
    );
    if (missing.length)
      issues.push({
        dataset,
        message: `the flag's object name must contain {${missing[0]}}: the dataset's name is read from the flag`,
      });
  }
  return issues;
}

/**
 * One flag per dataset and environment, whichever pipelines wait for it: the watch delivers a
 * dataset's data-ready to every run that waits for it, so two texts for one dataset would be two
 * triggers of one thing. Returns the conflicts as (pipeline, dataset, message).
 */
export function flagConflicts(
  pipelines: Record<string, { environments: Record<string, unknown>; data: { flags?: Record<string, FlagTrigger> } }>,
): { pipeline: string; dataset: string; message: string }[] {
  const first = new Map<string, { pipeline: string; said: string }>();
  const conflicts: { pipeline: string; dataset: string; message: string }[] = [];
  for (const [pipeline, p] of Object.entries(pipelines)) {
    for (const [dataset, trigger] of Object.entries(p.data.flags ?? {})) {
      const said = JSON.stringify(trigger);
      for (const environment of Object.keys(p.environments)) {
        const key = `${environment}\n${dataset}`;
        const seen = first.get(key);
        if (!seen) first.set(key, { pipeline, said });
        else if (seen.said !== said)
          conflicts.push({
            pipeline,
            dataset,
            message: `pipeline ${seen.pipeline} gives dataset ${dataset} another flag or window in environment ${environment}; a dataset has one flag per environment`,
          });
      }
    }
  }
  return conflicts;
}
