import { partitionProblem, partitionSpan, type PartitionFormat } from '../contracts/partition';
import { FLAG_CAPTURES, splitFlagUri, type FlagTrigger } from './flag-trigger-config';
import type { PipelineConfig } from './pipeline-config';
import { fill, type TemplateVars } from './templates';

// What the flag watch lists and how it reads what it finds: pure functions of the config, shared by
// the watch's activities (activities/flags/), its starter (starts/flag-watch.ts) and `ct flags`.

/** One dataset's flag in one environment, its template resolved for the environment. */
export interface FlagSource {
  /** `dataset ← gs://bucket/object`: stable while the config says the same, readable in the watch's status. */
  id: string;
  /** The dataset as the config names it ("user_profiles", "{sns}_posts"). */
  dataset: string;
  bucket: string;
  /** The object name's template, the environment's placeholders filled in. */
  object: string;
  format: PartitionFormat;
  window: FlagTrigger['window'];
  /** The pipelines that declare it (the runs its data-ready reaches are found when it is delivered). */
  pipelines: string[];
  /** The object name's literal start: a listing that holds every flag of this source starts with it. */
  prefix: string;
  /** The environment's placeholders, for the dataset's name. */
  vars: TemplateVars;
}

/** Sources listed together: one paged listing per bucket and group per interval serves them all. */
export interface FlagGroup {
  /** The sources' first folder ("warehouse/"), so a group keeps its key when sources come and go. */
  key: string;
  /** The longest literal start the sources share: the listing's prefix. */
  prefix: string;
  /** A glob Cloud Storage filters the listing with (matchGlob), when the sources share a literal end. */
  glob?: string;
  sources: FlagSource[];
}

/** What one watch (workflows/flag-watch.ts) lists: one environment's flags in one bucket. */
export interface FlagWatchTarget {
  environment: string;
  bucket: string;
  groups: FlagGroup[];
}

const GLOB_SPECIAL = /[*?[\]{}\\!]/;

/** Every flag of an environment, one source per dataset and template (pipelines that share one share it). */
export function flagSources(config: PipelineConfig, environment: string): FlagSource[] {
  const sources = new Map<string, FlagSource>();
  for (const [name, pipeline] of Object.entries(config.pipelines)) {
    const env = pipeline.environments[environment];
    if (!env || !pipeline.data.flags) continue;
    const vars: TemplateVars = { environment, project: env.project, region: env.region, pipeline: name };
    for (const [dataset, trigger] of Object.entries(pipeline.data.flags)) {
      const { bucket, object } = splitFlagUri(trigger.flag)!;
      const resolved = { bucket: fillFixed(bucket, vars), object: fillFixed(object, vars) };
      const id = `${dataset} ← gs://${resolved.bucket}/${resolved.object}`;
      const known = sources.get(id);
      if (known) {
        known.pipelines.push(name);
        continue;
      }
      sources.set(id, {
        id,
        dataset,
        ...resolved,
        format: pipeline.data.partition,
        window: trigger.window,
        pipelines: [name],
        prefix: resolved.object.slice(0, resolved.object.indexOf('{')),
        vars,
      });
    }
  }
  return [...sources.values()];
}

/** The watches an environment needs: one per bucket its flags are in, its sources grouped by first folder. */
export function flagWatchTargets(config: PipelineConfig, environments: readonly string[]): FlagWatchTarget[] {
  const targets: FlagWatchTarget[] = [];
  for (const environment of environments) {
    const byBucket = new Map<string, FlagSource[]>();
    for (const s of flagSources(config, environment)) byBucket.set(s.bucket, [...(byBucket.get(s.bucket) ?? []), s]);
    for (const [bucket, sources] of [...byBucket].sort(([a], [b]) => a.localeCompare(b)))
      targets.push({ environment, bucket, groups: groupSources(sources) });
  }
  return targets;
}

/** The watch of (environment, bucket), or undefined when the config has no flag there (any more). */
export function flagWatchTarget(config: PipelineConfig, environment: string, bucket: string) {
  return flagWatchTargets(config, [environment]).find((t) => t.bucket === bucket);
}

function groupSources(sources: FlagSource[]): FlagGroup[] {
  const byKey = new Map<string, FlagSource[]>();
  for (const s of sources) {
    const slash = s.prefix.indexOf('/');
    const key = slash >= 0 ? s.prefix.slice(0, slash + 1) : s.prefix;
    byKey.set(key, [...(byKey.get(key) ?? []), s]);
  }
  return [...byKey].map(([key, members]) => {
    const prefix = commonStart(members.map((s) => s.prefix));
    // The literal end after each template's last placeholder ("/_SUCCESS", ".done"), shared by all.
    const end = commonEnd(members.map((s) => s.object.slice(s.object.lastIndexOf('}') + 1)));
    const glob = GLOB_SPECIAL.test(prefix + end) ? undefined : `${prefix}**${end}`;
    return { key, prefix, glob, sources: members };
  });
}

const commonStart = (xs: string[]) =>
  xs.reduce((a, b) => {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    return a.slice(0, i);
  });

const commonEnd = (xs: string[]) =>
  xs.reduce((a, b) => {
    let i = 0;
    while (i < a.length && i < b.length && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
    return a.slice(a.length - i);
  });

function fillFixed(template: string, vars: TemplateVars): string {
  // Captured placeholders stay: they are read from each object's name.
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) =>
    (FLAG_CAPTURES as readonly string[]).includes(name) ? whole : (vars[name as keyof TemplateVars] ?? whole),
  );
}

const patterns = new WeakMap<FlagSource, RegExp>();

/** The source's template as a pattern: each captured placeholder a named group of one name segment. */
function patternOf(source: FlagSource): RegExp {
  let p = patterns.get(source);
  if (!p) {
    const body = source.object
      .split(/(\{[a-z]+\})/)
      .map((part) => {
        const m = /^\{([a-z]+)\}$/.exec(part);
        return m ? `(?<${m[1]}>[^/]+?)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    p = new RegExp(`^${body}$`);
    patterns.set(source, p);
  }
  return p;
}

/** A flag read from an object's name: its dataset and partition, or why it does not count. */
export type FlagReading =
  | {
      source: FlagSource;
      dataset: string;
      partition: string;
      /** After this, a flag for the partition is refused anyway. */ until: number;
    }
  | { source: FlagSource; refused: string; dataset?: string; partition?: string };

/**
 * Reads an object of the group's listing: nothing when it is no flag of these sources (a data file
 * beside `_SUCCESS`, another team's flag), else one reading per source whose template it fits.
 */
export function readFlag(group: FlagGroup, name: string, writtenAt: number): FlagReading[] {
  const readings: FlagReading[] = [];
  for (const source of group.sources) {
    // A group holds hundreds of templates and a listing thousands of objects: the literal start
    // rules most pairs out before the pattern runs.
    if (!name.startsWith(source.prefix)) continue;
    const m = patternOf(source).exec(name);
    if (!m) continue;
    const captured = m.groups ?? {};
    const partition = captured.partition!;
    const wrong = partitionProblem(partition, source.format, `the flag ${source.id}`);
    if (wrong) {
      readings.push({ source, refused: `not parseable: ${wrong}` });
      continue;
    }
    let dataset: string;
    try {
      dataset = fill(source.dataset, { ...source.vars, ...captured });
    } catch (err) {
      readings.push({ source, refused: `not parseable: ${(err as Error).message}` });
      continue;
    }
    const { start, end } = partitionSpan(partition, source.format, source.window.timezone);
    const opens = start.getTime() - source.window.early;
    const closes = end.getTime() + source.window.late;
    if (writtenAt < opens)
      readings.push({
        source,
        dataset,
        partition,
        refused: `outside the window: partition ${partition} begins ${start.toISOString()}, ${about(start.getTime() - writtenAt)} after this flag was written (${new Date(writtenAt).toISOString()}); a flag of ${dataset} counts from ${duration(source.window.early)} before its partition begins (window.early)`,
      });
    else if (writtenAt > closes)
      readings.push({
        source,
        dataset,
        partition,
        refused: `outside the window: partition ${partition} ended ${end.toISOString()}, ${about(writtenAt - end.getTime())} before this flag was written (${new Date(writtenAt).toISOString()}); a flag of ${dataset} counts until ${duration(source.window.late)} after its partition ends (window.late)`,
      });
    else readings.push({ source, dataset, partition, until: closes });
  }
  return readings;
}

/** A configured duration as the config writes it (7d, 36h, 90m, 0s). */
function duration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** A measured span, roughly. */
function about(ms: number): string {
  if (ms >= 2 * 86_400_000) return `${(ms / 86_400_000).toFixed(1)} days`;
  if (ms >= 2 * 3_600_000) return `${(ms / 3_600_000).toFixed(1)} hours`;
  if (ms >= 2 * 60_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} s`;
}
