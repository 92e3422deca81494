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

export const FaultCode = z.enum(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'INTERNAL', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'FAILED_PRECONDITION']);
export const Fault = z.strictObject({
  /** Full method name like "CreatePipelineJob", or "*" for every Vertex method. */
  method: z.string().min(1),
  /** Only calls on this project (id or number, either matches); all projects when omitted. */
  project: z.string().optional(),
  code: FaultCode,
  message: z.string().optional(),
  /** Fail with this probability (0–1)… */
  probability: z.number().min(0).max(1).optional(),
  /** …or for the next N calls (default 1 when probability is not given). */
  times: z.number().int().min(1).optional(),
  /** lose-response: the call takes effect (the job is stored) but the caller gets the error. */
  mode: z.enum(['reject', 'lose-response']).default('reject'),
  /** Hold the answer back this long after the call took effect (a caller that dies meanwhile never hears it). */
  delayMs: z.number().int().min(0).max(600_000).optional(),
});
export type FaultInput = z.input<typeof Fault>;

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
}
