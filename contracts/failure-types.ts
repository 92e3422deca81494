// Every ApplicationFailure type this project raises, named once. They cross the workflow/activity
// boundary and reach callers (the CLI, Airflow's hook), so workflows name them (e.g. in
// nonRetryableErrorTypes) without importing activity code, and tests match them by constant.

/**
 * The caller's input is wrong (malformed, or names what the config does not have): the run fails
 * at once with the reason, and retrying cannot help. Airflow's hook matches it by this name
 * (integrations/airflow/ct_coordinator_airflow/hook.py; a test keeps the two equal).
 */
export const INVALID_INPUT = 'InvalidInput';

// Vertex AI
/** Vertex refused the request (INVALID_ARGUMENT, PERMISSION_DENIED, …): retrying cannot help. */
export const VERTEX_REJECTED = 'VertexRejected';
/** Vertex was unavailable or over quota (429, 503, …): retried with backoff. */
export const VERTEX_UNAVAILABLE = 'VertexUnavailable';
/** A watch activity hands over to its next attempt while the job (or run) it watches goes on. */
export const STILL_RUNNING = 'VertexJobStillRunning';
/** The compiled pipeline spec in GCS changed after the run planned on its hash: a new run must train on it. */
export const PIPELINE_SPEC_CHANGED = 'PipelineSpecChanged';
/** The run's parameters do not fit the compiled pipeline's inputs. */
export const INVALID_PARAMETERS = 'InvalidPipelineParameters';

// GCS (not retried: an absent or forbidden object does not appear by retrying)
export const GCS_NOT_FOUND = 'GcsNotFound';
export const GCS_PERMISSION_DENIED = 'GcsPermissionDenied';
/** Not gs://bucket/object. */
export const INVALID_GCS_URI = 'InvalidGcsUri';
/** The training's metrics file is not a JSON object. */
export const INVALID_METRICS = 'InvalidMetrics';

// How runs end when they fail
/** The data a training run waits for did not all arrive within data.timeout. */
export const DATA_TIMEOUT = 'DataTimeout';
/** Every attempt's Vertex job ended without success. */
export const TRAINING_JOB_FAILED = 'TrainingJobFailed';
/** A prediction segment's BatchPredictionJob ended without success. */
export const BATCH_PREDICTION_FAILED = 'BatchPredictionFailed';
/** A prediction run ended with failed segments (fail-fast, or failures past its tolerance). */
export const PREDICTION_FAILED = 'PredictionFailed';
/** No model version is there to predict with. */
export const NO_MODEL = 'NoModel';
/** waitForModel's deadline passed before a fresh enough model was announced. */
export const MODEL_WAIT_TIMEOUT = 'ModelWaitTimeout';
/** The run a schedule firing started failed. */
export const SCHEDULED_RUN_FAILED = 'ScheduledRunFailed';
/** The stack check's probe read back something other than what it wrote. */
export const PROBE_MISMATCH = 'ProbeMismatch';
