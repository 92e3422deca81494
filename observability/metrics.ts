// Every domain metric the worker exports, named once. The SDK prefixes nothing here: these names
// are what Prometheus stores (counters get no `_total`; histograms are in the unit their name says).
// Labels stay bounded: pipeline, environment, phase, outcome, kind, state, method, code and
// decision take values from the config or from fixed sets, never a partition, a run id or a URI.
// Workflow metrics also carry the SDK's labels namespace, taskQueue and workflowType (camelCase, unlike
// the SDK's own metrics' task_queue and workflow_type).

export interface MetricDef {
  name: string;
  kind: 'counter' | 'histogram' | 'gauge';
  unit?: string;
  help: string;
  labels: readonly string[];
}

const def = <D extends MetricDef>(d: D) => d;

export const metrics = {
  runsStarted: def({
    name: 'ct_runs_started',
    kind: 'counter',
    help: 'Runs started (not counting continue-as-new generations), by workflow type',
    labels: ['pipeline', 'environment'],
  }),
  runsEnded: def({
    name: 'ct_runs_ended',
    kind: 'counter',
    help: 'Runs ended, by outcome (succeeded, rejected, skipped, delegated, partial, failed, cancelled, continued, completed)',
    labels: ['pipeline', 'environment', 'outcome'],
  }),
  runDuration: def({
    name: 'ct_run_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Wall time of a run (one generation), by outcome',
    labels: ['pipeline', 'environment', 'outcome'],
  }),
  dataReadyReceived: def({
    name: 'ct_data_ready_received',
    kind: 'counter',
    help: 'Data-ready updates a run accepted',
    labels: ['pipeline', 'environment'],
  }),
  dataReadyToSubmit: def({
    name: 'ct_data_ready_to_submit_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'From the data-ready that completed a run’s data to its Vertex job created',
    labels: ['pipeline', 'environment'],
  }),
  vertexCalls: def({
    name: 'ct_vertex_calls',
    kind: 'counter',
    help: 'Vertex AI RPCs by method and gRPC status code',
    labels: ['method', 'code'],
  }),
  vertexCallLatency: def({
    name: 'ct_vertex_call_latency_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Vertex AI RPC latency by method',
    labels: ['method'],
  }),
  // The worker's own budget of Vertex calls (infra/vertex/budget.ts), per region and quota bucket
  // (read, create); the project is left out to keep the labels bounded.
  vertexBudgetWait: def({
    name: 'ct_vertex_budget_wait_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Time a Vertex AI call waited for room in the worker’s per-project, per-region budget',
    labels: ['region', 'bucket'],
  }),
  vertexBudgetRefused: def({
    name: 'ct_vertex_budget_refused',
    kind: 'counter',
    help: 'Vertex AI calls the worker’s budget refused (no room within CT_VERTEX_BUDGET_MAX_WAIT_MS); callers retry them as 429s',
    labels: ['region', 'bucket'],
  }),
  // The coalesced watch's pace (activities/vertex/watch-pace.ts), per region and job kind.
  vertexWatchInterval: def({
    name: 'ct_vertex_watch_interval_seconds',
    kind: 'gauge',
    unit: 's',
    help: 'The coalesced watch’s wait between two listings of a region and job kind (its share of the read budget, the floor, 429s’ backoff)',
    labels: ['region', 'kind'],
  }),
  vertexWatchLists: def({
    name: 'ct_vertex_watch_lists',
    kind: 'counter',
    help: 'List calls (pages) the coalesced watch made, by region and job kind; its reads a minute are 60 × rate()',
    labels: ['region', 'kind'],
  }),
  jobsEnded: def({
    name: 'ct_vertex_jobs_ended',
    kind: 'counter',
    help: 'Vertex jobs a run saw end, by kind and end state',
    labels: ['pipeline', 'environment', 'kind', 'state'],
  }),
  jobDuration: def({
    name: 'ct_vertex_job_duration_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Vertex job running time (Vertex startTime to endTime), by kind and end state',
    labels: ['pipeline', 'environment', 'kind', 'state'],
  }),
  watchLag: def({
    name: 'ct_vertex_job_end_noticed_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'Watch lag: from Vertex reporting a job’s end to the run knowing it',
    labels: ['pipeline', 'environment', 'kind'],
  }),
  gateVerdicts: def({
    name: 'ct_gate_verdicts',
    kind: 'counter',
    help: 'Evaluation gate verdicts (passed, failed)',
    labels: ['pipeline', 'environment', 'verdict'],
  }),
  approvalDecisions: def({
    name: 'ct_approval_decisions',
    kind: 'counter',
    help: 'Approval decisions (approved, rejected, timed-out)',
    labels: ['pipeline', 'environment', 'decision'],
  }),
  predictionSegments: def({
    name: 'ct_prediction_segments_ended',
    kind: 'counter',
    help: 'Batch prediction segments ended, by outcome',
    labels: ['pipeline', 'environment', 'outcome'],
  }),
  // The create queue (config/create-queues.ts): backlog = entered − left, summed over workers.
  createQueueEntered: def({
    name: 'ct_create_queue_entered',
    kind: 'counter',
    help: 'Vertex job creates put on a rate-limited create queue (backlog: entered minus left)',
    labels: ['pipeline', 'environment'],
  }),
  createQueueLeft: def({
    name: 'ct_create_queue_left',
    kind: 'counter',
    help: 'Vertex job creates that left a create queue (created, or failed for good)',
    labels: ['pipeline', 'environment'],
  }),
  // From visibility (the worker's run-gauges loop): the state of every open run, not one worker's view.
  runsInPhase: def({
    name: 'ct_runs_in_phase',
    kind: 'gauge',
    help: 'Open runs per phase (the runPhase search attribute), by workflow type',
    labels: ['workflow_type', 'phase'],
  }),
  phaseOldest: def({
    name: 'ct_run_phase_oldest_seconds',
    kind: 'gauge',
    unit: 's',
    help: 'How long the longest-waiting open run has been in its phase',
    labels: ['workflow_type', 'phase'],
  }),
  approvalsWaiting: def({
    name: 'ct_approvals_waiting',
    kind: 'gauge',
    help: 'Runs waiting for a person to approve or reject a candidate',
    labels: ['pipeline', 'environment'],
  }),
  approvalOldestRatio: def({
    name: 'ct_approval_oldest_wait_ratio',
    kind: 'gauge',
    help: 'The longest approval wait as a fraction of its timeout (0.5 = half the timeout gone)',
    labels: ['pipeline', 'environment'],
  }),
  schedulesPaused: def({
    name: 'ct_schedules_paused',
    kind: 'gauge',
    help: 'Managed schedules that are paused, by why (failure: paused by the server after a failed run)',
    labels: ['reason'],
  }),
  rolloutsEnded: def({
    name: 'ct_rollouts_ended',
    kind: 'counter',
    help: 'Model rollouts to a Vertex Endpoint ended, by outcome (done, rolled-back, superseded)',
    labels: ['pipeline', 'environment', 'outcome'],
  }),
  rolloutStepDuration: def({
    name: 'ct_rollout_step_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'How long a rollout step took, from its traffic change to its verdict, by step percent and verdict',
    labels: ['pipeline', 'environment', 'percent', 'verdict'],
  }),
  // The flag watch (docs/triggers.md): its listings, and what became of each flag it found.
  flagListRequests: def({
    name: 'ct_flag_list_requests',
    kind: 'counter',
    help: 'Cloud Storage list requests (one per page) the flag watch made',
    labels: ['environment'],
  }),
  flagListErrors: def({
    name: 'ct_flag_list_errors',
    kind: 'counter',
    help: 'Flag listings that failed (the watch lists again at its next interval)',
    labels: ['environment'],
  }),
  flagListing: def({
    name: 'ct_flag_listing_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'How long one listing of a flag group took, all its pages',
    labels: ['environment'],
  }),
  flagEvents: def({
    name: 'ct_flag_events',
    kind: 'counter',
    help: 'Flags the watch found, by outcome (delivered, rewritten, refused) and, for refusals, reason (window, unparseable, unknown-dataset, run-refused, failed)',
    labels: ['environment', 'outcome', 'reason'],
  }),
  flagLag: def({
    name: 'ct_flag_delivery_lag_seconds',
    kind: 'histogram',
    unit: 's',
    help: 'From a flag written (its timeCreated) to its data-ready delivered to the runs',
    labels: ['environment'],
  }),
  gaugeRefreshErrors: def({
    name: 'ct_run_gauges_errors',
    kind: 'counter',
    help: 'Failed refreshes of the visibility gauges',
    labels: [],
  }),
} as const;

export type MetricKey = keyof typeof metrics;

/** Values a label may take where the source is free text: anything else is reported as `other`. */
export const runOutcomes = [
  'succeeded',
  'rejected',
  'skipped',
  'delegated',
  'partial',
  'failed',
  'cancelled',
  'reused',
  'continued',
  'completed',
] as const;
