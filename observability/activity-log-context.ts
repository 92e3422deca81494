import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';

// Activity log lines carry the run's context: the SDK adds workflowId, runId, workflowType,
// activityType and attempt; this adds pipeline, environment, segment, partition and the Vertex job
// from the activity's input (its first argument, or the plan inside it), never the input itself.

const pick = (o: unknown, key: string): string | undefined => {
  const v = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v.length <= 200 ? v : undefined;
};
const jobName = /^projects\/[^/]+\/locations\/[^/]+\/(pipelineJobs|customJobs|batchPredictionJobs)\/[^/]+$/;

export function runContextOf(arg: unknown): Record<string, string> {
  const plan = (arg as { plan?: unknown } | undefined)?.plan;
  const job = (arg as { job?: unknown } | undefined)?.job;
  const ctx: Record<string, string | undefined> = {};
  for (const key of ['pipeline', 'environment', 'segment', 'partition']) ctx[key] = pick(arg, key) ?? pick(plan, key);
  const name = pick(job, 'name') ?? pick(arg, 'name');
  if (name && jobName.test(name)) ctx.vertexJob = name;
  return Object.fromEntries(Object.entries(ctx).filter((e): e is [string, string] => e[1] !== undefined));
}

export function activityLogContext(_ctx: Context): ActivityInterceptors {
  let context: Record<string, string> = {};
  return {
    inbound: {
      execute: (input, next) => {
        context = runContextOf(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next({ ...context, ...input }),
    },
  };
}
