import type { Activities } from '../../activities';

// The activities the interceptors read results of, by name: typed against the worker's activities,
// so renaming one without changing it here is a type error.

type ActivityName = keyof Activities;

/** The activities whose results give a run its machines and prices (its plan). */
export const planActivities: ReadonlySet<string> = new Set<ActivityName>([
  'resolveTrainingRun',
  'resolveSegmentPrediction',
  'planPrediction',
  'startScheduledRun',
  'planTrainingFanout',
]);

/** The activities that submit a Vertex job. */
export const submitActivities: ReadonlySet<string> = new Set<ActivityName>([
  'submitTrainingJob',
  'submitBatchPrediction',
]);

/** The activities that watch a Vertex job to its end, and the job kind each sees. */
export const watchActivities: Partial<Record<ActivityName, string | undefined>> = {
  awaitTrainingJob: undefined, // the kind is on the job ref
  awaitBatchPrediction: 'batchPredictionJob',
};

export const isWatchActivity = (activityType: string): activityType is keyof typeof watchActivities =>
  activityType in watchActivities;
