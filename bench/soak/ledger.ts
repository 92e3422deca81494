import { z } from 'zod';

// What the soak's driver did, written as it goes (one JSON file per soak): the checker reads it beside
// what only the outside holds (Temporal's histories and visibility, the emulator's jobs and calls, GCS)
// and never anything inside the workers.

const at = z.string().datetime();

export const soakLedgerSchema = z.object({
  startedAt: at,
  endedAt: at.optional(),
  stack: z.object({
    temporalAddress: z.string(),
    namespace: z.string(),
    taskQueue: z.string(),
    vertexControlUrl: z.string(),
    vertexApiEndpoint: z.string(),
    gcsEndpoint: z.string(),
    configPath: z.string(),
  }),
  /** Every data-ready the driver sent, duplicates and late ones included. */
  dataReady: z.array(
    z.object({
      pipeline: z.string(),
      environment: z.string(),
      segment: z.string(),
      dataset: z.string(),
      partition: z.string(),
      sentAt: at,
      duplicate: z.boolean(),
      late: z.boolean(),
    }),
  ),
  /** Operator cancels, with the phase the run was in when it was asked. */
  cancels: z.array(z.object({ workflowId: z.string(), runId: z.string().optional(), at, phase: z.string() })),
  /**
   * Partitions deliberately trained again (`ct train --rerun`, data-ready with rerun): each allows
   * one more run under that id. Optional: a soak that reruns nothing leaves it out.
   */
  reruns: z.array(z.object({ workflowId: z.string(), at })).optional(),
  approvals: z.array(z.object({ workflowId: z.string(), decision: z.enum(['approve', 'reject', 'timeout']), at })),
  /** The window in which schedules were due: every firing due in it must be accounted for. */
  schedules: z.array(z.object({ scheduleId: z.string(), windowStart: at, windowEnd: at })),
  faults: z.array(z.object({ kind: z.string(), at, detail: z.string().optional() })),
  /**
   * Blue-green deploys of the workers (each also a `deploy:blue-green` fault): the builds, and when
   * the stack reached each step (`npm run stack:prod:deploy`'s report). Optional: a soak without one.
   */
  deploys: z
    .array(
      z.object({
        requestedAt: at,
        from: z.object({ buildId: z.string(), commit: z.string().optional() }),
        to: z.object({ buildId: z.string().optional() }),
        state: z.string(),
        steps: z.record(z.string(), at),
        message: z.string(),
      }),
    )
    .optional(),
  /** Samples of what must not grow. */
  samples: z.array(
    z.object({
      at,
      process: z.string(),
      rssBytes: z.number(),
      heapUsedBytes: z.number().optional(),
    }),
  ),
});

export type SoakLedger = z.infer<typeof soakLedgerSchema>;

/** A ledger with nothing recorded yet: the stack the season runs on; each list fills as it goes. */
export const emptyLedger = (stack: SoakLedger['stack'], startedAt = new Date().toISOString()): SoakLedger => ({
  startedAt,
  stack,
  dataReady: [],
  cancels: [],
  approvals: [],
  schedules: [],
  faults: [],
  deploys: [],
  samples: [],
});
