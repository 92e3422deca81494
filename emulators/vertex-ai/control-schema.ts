import { z } from 'zod';
import type { AuthKind } from './oauth';

// Shapes of the emulator's control API (HTTP JSON on the side port), shared by the server and the
// typed client that tests use. Everything a test scripts about Vertex's behaviour goes through here.

export const JobKind = z.enum(['pipelineJob', 'customJob', 'batchPredictionJob']);
export type JobKind = z.infer<typeof JobKind>;

export const Outcome = z.enum(['SUCCEEDED', 'FAILED', 'PAUSED', 'EXPIRED', 'PARTIALLY_SUCCEEDED', 'CANCELLED']);
export type Outcome = z.infer<typeof Outcome>;

export const HoldableState = z.enum(['QUEUED', 'PENDING', 'RUNNING', 'CANCELLING']);

export const RpcStatusBody = z.object({ code: z.number().int().min(1).max(16), message: z.string() });

export const JobScript = z.strictObject({
  outcome: Outcome.default('SUCCEEDED'),
  /** For FAILED (and the errors of PARTIALLY_SUCCEEDED): google.rpc.Status of the job. */
  error: RpcStatusBody.optional(),
  queuedMs: z.number().int().min(0).optional(),
  pendingMs: z.number().int().min(0).optional(),
  runningMs: z.number().int().min(0).optional(),
  cancellingMs: z.number().int().min(0).optional(),
  /** Stay in this state until advanced through the control API. */
  holdIn: HoldableState.optional(),
  /** How a cancel plays out: honoured (CANCELLED), or lost to the job ending on its own. */
  cancel: z.enum(['honour', 'lose-succeed', 'lose-fail']).default('honour'),
  /** Training outputs: the metrics JSON the job writes. */
  metrics: z.record(z.string(), z.number()).optional(),
  /** Batch prediction: how many instances fail (written to the errors file). */
  failedInstances: z.number().int().min(0).optional(),
});
export type JobScript = z.infer<typeof JobScript>;
export type JobScriptInput = z.input<typeof JobScript>;

export const ScriptRule = z.strictObject({
  match: z
    .strictObject({
      kind: JobKind.optional(),
      /** The project (id or number, either matches): scope a rule to one test's project. */
      project: z.string().optional(),
      displayName: z.string().optional(),
      pipelineJobId: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .default({}),
  script: JobScript,
  /** How many future jobs the rule applies to; unlimited when omitted. */
  times: z.number().int().min(1).optional(),
});
export type ScriptRuleInput = z.input<typeof ScriptRule>;

export const FaultCode = z.enum([
  'UNAVAILABLE',
  'RESOURCE_EXHAUSTED',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
  'INVALID_ARGUMENT',
  'PERMISSION_DENIED',
  'FAILED_PRECONDITION',
]);
export const Fault = z
  .strictObject({
    /** Full method name like "CreatePipelineJob", or "*" for every Vertex method. */
    method: z.string().min(1),
    /** Only calls on this project (id or number, either matches); all projects when omitted. */
    project: z.string().optional(),
    /** The error the caller gets (reject, lose-response, commit-late). */
    code: FaultCode.optional(),
    message: z.string().optional(),
    /** Fail with this probability (0–1)… */
    probability: z.number().min(0).max(1).optional(),
    /** …or for the next N calls (default 1 when probability is not given). */
    times: z.number().int().min(1).optional(),
    /**
     * reject: the call fails and has no effect. lose-response: it takes effect (the job is stored) but
     * the caller gets the error. commit-late: the caller gets the error (after delayMs) and the call
     * takes effect only commitAfterMs later — a create that outlived the client's deadline. delay: the
     * call succeeds, its answer held back delayMs. stale-list: a List does not yet show what was
     * created in the last lagMs (Vertex's listings are eventually consistent).
     */
    mode: z.enum(['reject', 'lose-response', 'commit-late', 'delay', 'stale-list']).default('reject'),
    /** Hold the answer back this long after the call took effect (a caller that dies meanwhile never hears it). */
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /** commit-late: when the call takes effect, counted from its arrival. */
    commitAfterMs: z.number().int().min(0).max(600_000).optional(),
    /** stale-list: how far behind the listing is. */
    lagMs: z.number().int().min(0).max(600_000).optional(),
  })
  .superRefine((f, ctx) => {
    const needsCode = f.mode === 'reject' || f.mode === 'lose-response' || f.mode === 'commit-late';
    if (needsCode && !f.code)
      ctx.addIssue({ code: 'custom', path: ['code'], message: `mode ${f.mode} needs the error code the caller gets` });
    if (f.mode === 'commit-late' && f.commitAfterMs === undefined)
      ctx.addIssue({ code: 'custom', path: ['commitAfterMs'], message: 'mode commit-late needs commitAfterMs' });
    if (f.mode === 'stale-list' && f.lagMs === undefined)
      ctx.addIssue({ code: 'custom', path: ['lagMs'], message: 'mode stale-list needs lagMs' });
    if (f.mode === 'stale-list' && !f.method.startsWith('List'))
      ctx.addIssue({ code: 'custom', path: ['method'], message: 'mode stale-list applies to List methods' });
  });
export type FaultInput = z.input<typeof Fault>;

/** How Predict answers for the deployed models a rule matches (the newest matching rule wins). */
export const PredictRule = z.strictObject({
  match: z.strictObject({
    /** Required: a rule belongs to one test's project (id or number, either matches). */
    project: z.string().min(1),
    endpointId: z.string().optional(),
    deployedModelId: z.string().optional(),
    /** A model's name (projects/…/models/ID) or its bare id. */
    model: z.string().optional(),
    modelVersionId: z.string().optional(),
  }),
  script: z.strictObject({
    /** 'echo' (the default): each instance is its own prediction; or exactly this list. */
    predictions: z.union([z.literal('echo'), z.array(z.unknown())]).optional(),
    /** This share of requests fails, spread evenly (0.1: the 10th, 20th, … request of the deployed model). */
    errorRate: z.number().min(0).max(1).optional(),
    /** The gRPC code the failing requests get. */
    errorCode: FaultCode.optional(),
    /** Added to every request's latency. */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
  }),
});
export type PredictRuleInput = z.input<typeof PredictRule>;

/** How DeployModel and UndeployModel play out in a project (the newest matching script wins). */
export const DeployScript = z.strictObject({
  match: z.strictObject({ project: z.string().min(1) }),
  deploy: z.strictObject({
    /** How long the operation runs before it is done (default 300 ms). */
    delayMs: z.number().int().min(0).max(600_000).optional(),
    /** The operation ends with this error instead, and changes nothing. */
    fail: RpcStatusBody.optional(),
  }),
  /** How many operations it applies to; unlimited when omitted. */
  times: z.number().int().min(1).optional(),
});
export type DeployScriptInput = z.input<typeof DeployScript>;

/** One Predict request a deployed model served (GET /predictions; Monitoring's source). */
export interface PredictionEntry {
  time: string;
  project: string;
  region: string;
  endpointId: string;
  deployedModelId: string;
  instanceCount: number;
  latencyMs: number;
  /** The gRPC code name of a failed request; null when it succeeded. */
  errorCode: string | null;
}

export interface DeployedModelView {
  id: string;
  model: string;
  modelVersionId: string;
  displayName?: string;
  dedicatedResources?: unknown;
}

export interface EndpointView {
  name: string;
  endpointId: string;
  displayName?: string;
  labels: Record<string, string>;
  deployedModels: DeployedModelView[];
  trafficSplit: Record<string, number>;
}

export const Settings = z.strictObject({
  projectNumbers: z.boolean(),
  defaults: z.strictObject({
    queuedMs: z.number().int().min(0),
    pendingMs: z.number().int().min(0),
    runningMs: z.number().int().min(0),
    cancellingMs: z.number().int().min(0),
    uploadModelMs: z.number().int().min(0),
  }),
  quota: z.strictObject({
    enabled: z.boolean(),
    crudPerMinute: z.number().int().min(1),
    createsPerMinute: z.number().int().min(1),
    /** Limit only these projects (ids or numbers); every project when omitted. */
    projects: z.array(z.string()).optional(),
  }),
  /** Added latency per method name ("*" for all). */
  latencyMs: z.record(z.string(), z.number().int().min(0)),
});
export type Settings = z.infer<typeof Settings>;
export const SettingsPatch = Settings.partial().extend({
  defaults: Settings.shape.defaults.partial().optional(),
  quota: Settings.shape.quota.partial().optional(),
});
export type SettingsPatch = z.input<typeof SettingsPatch>;

export const defaultSettings = (): Settings => ({
  projectNumbers: true,
  defaults: { queuedMs: 100, pendingMs: 100, runningMs: 1_000, cancellingMs: 200, uploadModelMs: 300 },
  quota: { enabled: false, crudPerMinute: 600, createsPerMinute: 60 },
  latencyMs: {},
});

export interface CallLogEntry {
  seq: number;
  time: string;
  method: string;
  request: unknown;
  code: number;
  codeName: string;
  message?: string;
  durationMs: number;
  /** How the call authenticated: a token from the emulator's token endpoint, a self-signed JWT, none… */
  auth?: AuthKind;
}

export interface JobView {
  kind: JobKind;
  name: string;
  state: string;
  displayName?: string;
  labels: Record<string, string>;
  createTime: string;
  startTime?: string;
  endTime?: string;
  error?: { code: number; message: string };
  script: JobScript;
  cancelRequested: boolean;
  /** A BatchPredictionJob's model as it was asked for (…/models/m@3, @alias, or none) and the version it resolved to. */
  model?: string;
  modelVersionId?: string;
}

/** A registered model, its versions and every move of an alias (GET /models). */
export interface ModelView {
  name: string;
  versions: {
    versionId: string;
    aliases: string[];
    displayName?: string;
    labels?: Record<string, string>;
    createTime: string;
    updateTime: string;
  }[];
  /** Oldest first; versionId null: the alias was taken off without being given to another version. */
  aliasHistory: { alias: string; versionId: string | null; at: string }[];
}
