import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A detection slower than this is kept with its watch's story. */
export const SLOW_MS = 30_000;

/** How the watch of one slow detection went, read from its segment's history. */
export interface WatchStory {
  segment: string;
  jobEnd: string;
  /** Chunks of the watch (awaitBatchPrediction activities scheduled). */
  chunks: number;
  /** The ending chunk's times and the attempt that saw the end (a retry means a worker lost or a chunk timed out). */
  endingChunk: { scheduled?: string; started?: string; completed?: string; attempt?: number; lastFailure?: string };
}

const at = (e: HistoryEvent | undefined): string | undefined =>
  e?.eventTime
    ? new Date(Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6)).toISOString()
    : undefined;

export function watchStory(
  events: HistoryEvent[],
  completed: HistoryEvent,
  job: { segment: string; jobEnd: string },
): WatchStory {
  const scheduledId = String(completed.activityTaskCompletedEventAttributes?.scheduledEventId);
  const scheduled = events.find((e) => String(e.eventId) === scheduledId);
  const started = events.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === scheduledId);
  const chunks = events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitBatchPrediction',
  ).length;
  return {
    ...job,
    chunks,
    endingChunk: {
      scheduled: at(scheduled),
      started: at(started),
      completed: at(completed),
      attempt: started?.activityTaskStartedEventAttributes?.attempt ?? undefined,
      lastFailure: started?.activityTaskStartedEventAttributes?.lastFailure?.message ?? undefined,
    },
  };
}
