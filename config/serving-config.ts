import { z } from 'zod';
import { Duration, Json, LabelMap, template } from './primitives';

// Online serving: a newly promoted champion is rolled out to a Vertex Endpoint by canary steps,
// each watched against health rules read from Cloud Monitoring, and rolled back on its own.

const Percent = z.number().int().min(1).max(100);

export const Serving = z
  .strictObject({
    /** Environments that serve online; all of the pipeline's when omitted. */
    environments: z.array(z.string().min(1)).min(1).optional(),
    /** The endpoint, found by display name (and the ct-serving label) or created. */
    endpoint: z
      .strictObject({
        displayName: template(z.string().min(1).max(128)).default('{pipeline}-{environment}'),
        labels: LabelMap.default({}),
      })
      .prefault({}),
    /** What each deployed model runs on; billed per node-hour while deployed, traffic or not. */
    machine: z
      .strictObject({
        machineType: z.string().min(1).default('n1-standard-2'),
        minReplicas: z.number().int().min(1).default(1),
        maxReplicas: z.number().int().min(1).default(1),
      })
      .prefault({})
      .refine((m) => m.maxReplicas >= m.minReplicas, {
        message: 'maxReplicas must be at least minReplicas',
        path: ['maxReplicas'],
      }),
    /** The candidate's share of traffic at each step, ascending, ending at 100. */
    steps: z
      .array(Percent)
      .min(1)
      .default([10, 50, 100])
      .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]!), 'steps must rise (e.g. [10, 50, 100])')
      .refine((s) => s.at(-1) === 100, 'the last step must be 100'),
    /** How long each step is watched before the next; health is read every `checkEvery` meanwhile. */
    watch: Duration.prefault('30m'),
    checkEvery: Duration.prefault('1m'),
    health: z
      .strictObject({
        /** Errors ÷ predictions of the candidate over the step so far. */
        maxErrorRate: z.number().min(0).max(1).default(0.01),
        /** The candidate's p95 prediction latency. */
        maxP95LatencyMs: z.number().positive().default(1000),
        /** Against the model being replaced over the same window: the candidate may be at most this many times worse. */
        vsPrevious: z
          .strictObject({
            errorRateRatio: z.number().min(1).default(2),
            p95LatencyRatio: z.number().min(1).default(1.5),
          })
          .optional(),
        /** Fewer predictions than this in a step cannot show health: the step does not pass on them. */
        minPredictions: z.number().int().min(0).default(20),
      })
      .prefault({}),
    /** A person approves each step before its traffic moves (`ct rollout approve`). */
    approveEachStep: z.boolean().default(false),
    /** How long the previous model stays deployed (with no traffic) after 100 %, for an instant rollback. */
    keepPrevious: Duration.prefault('1h'),
    /** A golden set predicted before any traffic moves: every prediction must equal its expected output. */
    smoke: z
      .strictObject({
        instances: z.array(Json).min(1),
        expected: z.array(Json).min(1),
        /** Numbers may differ by this much. */
        tolerance: z.number().min(0).default(1e-6),
      })
      .refine((s) => s.instances.length === s.expected.length, {
        message: 'give one expected prediction per instance',
        path: ['expected'],
      })
      .optional(),
  })
  .refine((s) => s.checkEvery <= s.watch, { message: 'checkEvery must not exceed watch', path: ['checkEvery'] });
export type Serving = z.output<typeof Serving>;
