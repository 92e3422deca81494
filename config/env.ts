import { z } from 'zod';
import { parseEnvironmentList } from './worker-target';

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
      // envconfig (config/temporal.ts) reads only these four spellings; any other would silently mean false there.
      TEMPORAL_TLS: z.enum(['true', 'false', '1', '0'], 'must be true, false, 1 or 0').optional(),
      // The TypeScript SDK has no switch for it: refused rather than ignored.
      TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: z
        .enum(
          ['false', '0'],
          "is not supported by the TypeScript SDK: set TEMPORAL_TLS_SERVER_NAME to a name in the server's certificate",
        )
        .optional(),
    },
    runtimeEnv,
  );
}
export type TemporalEnv = ReturnType<typeof loadTemporalEnv>;

/** The worker's own variables; where it polls comes from the config (config/worker-target.ts). */
export function loadWorkerEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      /** The config's environments this worker serves, comma-separated; all of them when unset. */
      CT_ENVIRONMENTS: z
        .string()
        .regex(/^[a-z0-9_, -]+$/i, 'must be environment names separated by commas')
        .optional()
        .transform(parseEnvironmentList),
      /** Only a restatement of the config's task queue: the worker refuses to start on a contradiction. */
      CT_TASK_QUEUE: z.string().min(1).optional(),
      /** A prebuilt workflow bundle (npm run build:workflows); bundled at start when unset. */
      CT_WORKFLOW_BUNDLE: z.string().min(1).optional(),
      /** Worker Deployment Versioning (workers/versioning.ts): the deployment this worker belongs to; off when unset. */
      CT_DEPLOYMENT_NAME: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, - and _ (no dots: the version is deployment.buildId)')
        .optional(),
      /** The build's id within the deployment; by default a hash of CT_WORKFLOW_BUNDLE. */
      CT_BUILD_ID: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, ., - and _')
        .optional(),
      /** Runs kept in the worker's workflow cache (workers/worker.ts says why it is bounded); 0 turns the cache off. */
      CT_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(100),
    },
    runtimeEnv,
  );
}

/**
 * Vertex's documented quotas (600 CRUD and 60 submissions per minute, project and region) less a
 * tenth, left for the console, gcloud and anything else that spends the same project's quota.
 */
export const vertexBudgetDefaults = {
  readsPerMinute: Math.floor(600 * 0.9),
  createsPerMinute: Math.floor(60 * 0.9),
  /** Under the Vertex activities' 45 s timeout, with the RPC's own time to spare. */
  maxWaitMs: 20_000,
};

/**
 * How long after a retried submit started an earlier try's create may still land (a create that
 * answered DEADLINE_EXCEEDED and committed later, or one a lagging listing hid): Vertex's client
 * deadline (30 s), backoff and two listings fit in it many times over.
 */
export const LATE_CREATE_WINDOW_MS = 120_000;

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
      /** host:port of a Cloud Monitoring endpoint without TLS (the Vertex AI emulator serves it); unset on Google Cloud. */
      MONITORING_API_ENDPOINT: z
        .string()
        .regex(/^[^:/]+:[0-9]+$/, 'must be host:port')
        .optional(),
      /**
       * How running Vertex jobs are watched: `coalesced` (one paged List per project, region and job
       * kind: activities/vertex/region-watch.ts) or `per-job` (a Get per job and poll interval, which
       * exhausts Vertex's read quota at ~500 jobs in flight; kept as bench:scale's baseline).
       */
      CT_VERTEX_WATCH: z.enum(['coalesced', 'per-job']).default('coalesced'),
      /**
       * Coalesced: the share of CT_VERTEX_READS_PER_MINUTE the watch spends on listings, split among
       * the job kinds watched in a project and region; it lists as often as that allows for the pages
       * it needs (activities/vertex/watch-pace.ts). 0: a listing every CT_VERTEX_WATCH_INTERVAL_MS,
       * whatever the pages (the fixed watch, bench:scale's baseline).
       */
      CT_VERTEX_WATCH_READ_SHARE: z.coerce
        .number('must be a fraction of CT_VERTEX_READS_PER_MINUTE, e.g. 0.1')
        .min(0, 'must be between 0 (a fixed interval) and 1 (the whole read budget), e.g. 0.1')
        .max(1, 'must be between 0 (a fixed interval) and 1 (the whole read budget), e.g. 0.1')
        .default(0.1),
      /** Coalesced: the shortest time between two listings of a region, however much the share allows. */
      CT_VERTEX_WATCH_FLOOR_MS: z.coerce.number().int().min(100).max(600_000).default(1_000),
      /**
       * Coalesced: with a share, the longest other callers' reads can push the interval to (the share's
       * own interval and 429s' backoff may be longer); without one (share 0), the fixed interval.
       */
      CT_VERTEX_WATCH_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
      /**
       * Coalesced: jobs a List page asks for. 1,000 is the most Google's list APIs give (AIP-158: a larger
       * page_size is coerced down); with the listing's read_mask a page of 1,000 jobs is a few hundred kB,
       * and one page instead of two halves the interval the read share allows.
       */
      CT_VERTEX_LIST_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(1000),
      /** A retried CustomJob or BatchPredictionJob submit's job is swept for late twins this long (activities/vertex/duplicates.ts). */
      CT_VERTEX_LATE_CREATE_WINDOW_MS: z.coerce.number().int().min(0).max(3_600_000).default(LATE_CREATE_WINDOW_MS),
      /**
       * This worker's share of Vertex's per-project, per-region "Resource management (CRUD)
       * requests" quota (600/min: get, list, cancel, aliases, operation polls), counted by its
       * budget (infra/vertex/budget.ts). Run N workers on one project? Give each 1/N.
       */
      CT_VERTEX_READS_PER_MINUTE: z.coerce.number().int().min(2).default(vertexBudgetDefaults.readsPerMinute),
      /**
       * A project and region's "Job or LRO submission requests" (60/min: create*, uploadModel), shared
       * by every worker: the rate of its create queue, which the server enforces (workers/worker.ts),
       * and each worker's own budget too. Not divided among workers.
       */
      CT_VERTEX_CREATES_PER_MINUTE: z.coerce.number().int().min(2).default(vertexBudgetDefaults.createsPerMinute),
      /** A call that would wait longer than this for the budget fails at once, as a 429 would (retried). */
      CT_VERTEX_BUDGET_MAX_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(vertexBudgetDefaults.maxWaitMs),
      /**
       * The flag watch (docs/triggers.md): between the starts of two listings of a bucket's flags (the
       * bound of a flag's lag). At most half the listing activity's 1-hour timeout: an attempt waits
       * out an interval after its chunk's last listing before handing over.
       */
      CT_FLAG_WATCH_INTERVAL_MS: z.coerce.number().int().min(100).max(1_800_000).default(30_000),
      /** How long one attempt of the watch's listing activity lists before handing over to the next. */
      CT_FLAG_WATCH_CHUNK_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(1_800_000),
      CT_FLAG_LIST_PAGE_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
      /** At most this many new flags go from one listing to the watch at once (a backfill's thousands go in turns). */
      CT_FLAG_WATCH_BATCH: z.coerce.number().int().min(1).max(1000).default(200),
      /** Ask Cloud Storage to filter listings by glob (matchGlob); `off` lists every object under the prefix. */
      CT_FLAG_MATCH_GLOB: z.enum(['on', 'off']).default('on'),
      /** How far a listing's watermark trails its start: the clock difference with Cloud Storage it tolerates. */
      CT_FLAG_WATCH_MARGIN_MS: z.coerce.number().int().min(0).max(3_600_000).default(120_000),
    },
    runtimeEnv,
  );
}
export type GcpEnv = ReturnType<typeof loadGcpEnv>;

/** The worker's metrics endpoint, the visibility gauges' refresh and its logs (observability/). */
export function loadTelemetryEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      /** host:port the worker serves Prometheus metrics on (`/metrics`); unset: no metrics endpoint. */
      CT_METRICS_ADDRESS: z
        .string()
        .regex(/^[^:/\s]+:[0-9]{1,5}$/, 'must be host:port, e.g. 0.0.0.0:9464')
        .optional(),
      /** How often the worker refreshes the gauges it reads from visibility (ct_runs_in_phase, …); 0 turns them off. */
      CT_RUN_GAUGES_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
      /** json: one object per line (the default when stderr is not a terminal); pretty: for a person. */
      CT_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
      CT_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    },
    runtimeEnv,
  );
}
export type TelemetryEnv = ReturnType<typeof loadTelemetryEnv>;

/** Ports and folders of the local stack (`npm run dev`); each overridable for a second checkout. */
export function loadLocalStackEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return parseEnv(
    {
      CT_DATA_DIR: z.string().min(1).default('.data'),
      TEMPORAL_PORT: port(7233),
      TEMPORAL_UI_PORT: port(8233),
      TEMPORAL_HTTP_PORT: port(7243),
      TEMPORAL_METRICS_PORT: port(9233),
      /** Only a restatement of the config's namespace (config/worker-target.ts). */
      TEMPORAL_NAMESPACE: z.string().min(1).optional(),
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

/** `npm run dev`: the local stack's ports and folders, plus where its worker serves its Prometheus metrics. */
export function loadDevStackEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return {
    ...loadLocalStackEnv(runtimeEnv),
    ...parseEnv(
      {
        /** The worker's /metrics on 127.0.0.1 (its CT_METRICS_ADDRESS); 9464 is the Prometheus exporters' usual port. */
        WORKER_METRICS_PORT: port(9464),
      },
      runtimeEnv,
    ),
  };
}

/** `npm run stack:prod`: the local stack's ports and folders, plus PostgreSQL, the Temporal server's own ports and the worker count. */
export function loadProdStackEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  return {
    ...loadLocalStackEnv(runtimeEnv),
    ...parseEnv(
      {
        // The names deploy/temporal/config.yaml and docker-compose.yml use.
        DB_PORT: port(5432),
        POSTGRES_USER: z.string().min(1).default('temporal'),
        POSTGRES_PWD: z.string().min(1).default('temporal'),
        FRONTEND_MEMBERSHIP_PORT: port(6933),
        HISTORY_GRPC_PORT: port(7234),
        HISTORY_MEMBERSHIP_PORT: port(6934),
        MATCHING_GRPC_PORT: port(7235),
        MATCHING_MEMBERSHIP_PORT: port(6935),
        WORKER_GRPC_PORT: port(7239),
        WORKER_MEMBERSHIP_PORT: port(6939),
        CT_WORKERS: z.coerce.number().int().min(1).max(32).default(3),
      },
      runtimeEnv,
    ),
  };
}
