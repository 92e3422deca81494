import { z } from 'zod';

// Environment is parsed once, at process start, and fails loudly with every problem listed.
// Variable names follow the Temporal CLI's (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, …) so one
// shell set-up serves the CLI, the worker and the ct client alike.

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

export class InvalidEnvironment extends Error {
  override name = 'InvalidEnvironment';
}

/** Empty strings count as unset, as a shell `FOO=` means; every problem is listed at once. */
function parseEnv<S extends z.ZodRawShape>(shape: S, runtimeEnv: NodeJS.ProcessEnv) {
  const relevant = Object.fromEntries(
    Object.keys(shape).map((k) => [k, runtimeEnv[k] === '' ? undefined : runtimeEnv[k]]),
  );
  const result = z.object(shape).safeParse(relevant);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.map(String).join('.')}: ${i.message}`);
    throw new InvalidEnvironment(`invalid environment:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadTemporalEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
      TEMPORAL_NAMESPACE: z.string().min(1).default('ct-coordinator'),
      TEMPORAL_API_KEY: z.string().min(1).optional(),
      TEMPORAL_TLS: z.stringbool().optional(),
      CT_TASK_QUEUE: z.string().min(1).default('ct-coordinator'),
      /** A prebuilt workflow bundle (npm run build:workflows); bundled at start when unset. */
      CT_WORKFLOW_BUNDLE: z.string().min(1).optional(),
    },
    runtimeEnv,
  );
}
export type TemporalEnv = ReturnType<typeof loadTemporalEnv>;

export function loadGcpEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      /** Unset in production (the real endpoint); fake-gcs-server's URL locally and in tests. */
      GCS_API_ENDPOINT: z.url().optional(),
      GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
      /** host:port of a Vertex AI endpoint without TLS (the emulator); unset on real Vertex. */
      VERTEX_API_ENDPOINT: z
        .string()
        .regex(/^[^:/]+:[0-9]+$/, 'must be host:port')
        .optional(),
      /**
       * How running Vertex jobs are watched: `per-job` (a Get per job and poll interval) or
       * `coalesced` (one paged List per project, region and job kind: activities/vertex/region-watch.ts).
       */
      CT_VERTEX_WATCH: z.enum(['per-job', 'coalesced']).default('per-job'),
      /** Coalesced: between two listings of a region (the detection lag's bound). */
      CT_VERTEX_WATCH_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
      CT_VERTEX_LIST_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(500),
    },
    runtimeEnv,
  );
}
export type GcpEnv = ReturnType<typeof loadGcpEnv>;

/** Ports and folders of the local stack (`npm run dev`); each overridable for a second checkout. */
export function loadLocalStackEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      CT_DATA_DIR: z.string().min(1).default('.data'),
      TEMPORAL_PORT: port(7233),
      TEMPORAL_UI_PORT: port(8233),
      TEMPORAL_HTTP_PORT: port(7243),
      TEMPORAL_METRICS_PORT: port(9233),
      TEMPORAL_NAMESPACE: z.string().min(1).default('ct-coordinator'),
      FAKE_GCS_PORT: port(4443),
      VERTEX_EMULATOR_PORT: port(8590),
      VERTEX_EMULATOR_CONTROL_PORT: port(8591),
      VERTEX_EMULATOR_TLS_PORT: port(8592),
      GOOGLE_CLOUD_PROJECT: z.string().min(1).default('ct-local'),
      GCS_BUCKETS: z
        .string()
        .default('ct-local')
        .transform((s) =>
          s
            .split(',')
            .map((b) => b.trim())
            .filter(Boolean),
        ),
    },
    runtimeEnv,
  );
}
export type LocalStackEnv = ReturnType<typeof loadLocalStackEnv>;
