// Every workflow the worker registers. Workflow code runs in Temporal's deterministic sandbox and
// is replayed from history: no Node built-ins, no I/O, activities imported for their types only.
export { stackCheck } from './stack-check';
export { trainingRun } from './training-run';
export { routeDataReady } from './route-data-ready';
export { waitForModel } from './wait-for-model';
export { predictionRun } from './prediction-run';
export { predictionSegment } from './prediction-segment';
export { trainingFanout } from './training-fanout';
export { scheduledRun } from './scheduled-run';
