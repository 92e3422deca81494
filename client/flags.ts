import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { flagWatchTarget, flagWatchTargets, readFlag } from '../config/flags';
import type { PipelineConfig } from '../config/pipeline-config';
import { environmentsOf } from '../config/runs';
import { flagNoticeSignal, flagWatchId, flagWatchQuery, type FlagSeen, type FlagWatchStatus } from '../contracts';
import { TrainingRequestError } from './training';

// `ct flags`: the flag watches of an environment (docs/triggers.md), and the push form: a Cloud
// Storage notification handed to the watch of its bucket, which reads and delivers it as it would
// the listing's (so dedup, window and reports stay the watch's).

function checkEnvironment(config: PipelineConfig, environment: string) {
  const environments = environmentsOf(config);
  if (!environments.includes(environment))
    throw new TrainingRequestError(
      `--env: environment "${environment}" is not in the config; it has: ${environments.join(', ')}`,
    );
}

export interface WatchReport {
  workflowId: string;
  bucket: string;
  /** Flag templates (`dataset ← gs://…`) the config gives this watch. */
  sources: string[];
  /** Undefined when no watch runs for the bucket (a worker of the environment starts it). */
  status?: FlagWatchStatus;
}

/** Every watch the environment's flags need, with what each reports. */
export async function flagWatchReports(client: Client, config: PipelineConfig, environment: string) {
  checkEnvironment(config, environment);
  return Promise.all(
    flagWatchTargets(config, [environment]).map(async (t): Promise<WatchReport> => {
      const workflowId = flagWatchId(environment, t.bucket);
      const sources = t.groups.flatMap((g) => g.sources.map((s) => s.id));
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        if (description.status.name !== 'RUNNING') return { workflowId, bucket: t.bucket, sources };
        return {
          workflowId,
          bucket: t.bucket,
          sources,
          status: await client.workflow.getHandle(workflowId).query(flagWatchQuery),
        };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { workflowId, bucket: t.bucket, sources };
        throw err;
      }
    }),
  );
}

/**
 * A Cloud Storage notification (payload format JSON: the object's resource), as Pub/Sub delivers
 * it to a push endpoint (`{message: {data: base64}}`), as a pull prints it, or the resource itself.
 */
const ObjectResource = z.object({
  bucket: z.string().min(3).max(222),
  name: z.string().min(1).max(1024),
  generation: z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(String),
  timeCreated: z.iso.datetime({ offset: true }),
});

export function objectOfNotification(text: string): z.output<typeof ObjectResource> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TrainingRequestError(
      'the notification is not JSON (a Cloud Storage object resource, or a Pub/Sub message carrying one)',
    );
  }
  const data = (raw as { message?: { data?: unknown } } | null)?.message?.data;
  if (typeof data === 'string') raw = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  const parsed = ObjectResource.safeParse(raw);
  if (!parsed.success)
    throw new TrainingRequestError(
      `the notification is not a Cloud Storage object (payload format JSON): ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}

/**
 * Hands a written object to the watch of its bucket (signal flagNotice): the watch reads it against
 * the config, delivers it once, or reports it, as if its listing had found it. An object in a
 * bucket the environment watches no flag in is refused; one that fits no template is not sent.
 */
export async function notifyFlag(
  client: Client,
  config: PipelineConfig,
  environment: string,
  object: z.output<typeof ObjectResource>,
): Promise<{ workflowId: string; sent: boolean; why?: string }> {
  checkEnvironment(config, environment);
  const target = flagWatchTarget(config, environment, object.bucket);
  const workflowId = flagWatchId(environment, object.bucket);
  if (!target)
    throw new TrainingRequestError(
      `environment ${environment} watches no flag in gs://${object.bucket}; it watches: ${
        flagWatchTargets(config, [environment])
          .map((t) => `gs://${t.bucket}`)
          .join(', ') || 'none'
      }`,
    );
  // Part files and other teams' objects stop here: each signal is an event in the watch's history.
  if (!target.groups.some((g) => readFlag(g, object.name, Date.parse(object.timeCreated)).length))
    return {
      workflowId,
      sent: false,
      why: `gs://${object.bucket}/${object.name} fits no flag template of ${environment}`,
    };
  const seen: FlagSeen = { object: object.name, generation: object.generation, writtenAt: object.timeCreated };
  try {
    await client.workflow.getHandle(workflowId).signal(flagNoticeSignal, { flags: [seen] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new TrainingRequestError(
        `no flag watch runs as ${workflowId}: a worker serving environment ${environment} starts it (its listing will find the flag then)`,
      );
    throw err;
  }
  return { workflowId, sent: true };
}
