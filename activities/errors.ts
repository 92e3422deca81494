import { ApplicationFailure } from '@temporalio/common';
import { GCS_NOT_FOUND, GCS_PERMISSION_DENIED } from '../contracts';

// Typed, non-retryable failures: Temporal stops retrying and the operator sees the reason.
// Anything else an activity throws (network blips, 5xx, 429) is retried by the activity's policy.

interface HttpLikeError {
  code?: number | string;
  message?: string;
}

/** Maps a @google-cloud/storage error to a non-retryable failure when retrying cannot help. */
export function classifyGcsError(err: unknown, uri: string): unknown {
  const code = (err as HttpLikeError | undefined)?.code;
  if (code === 404) {
    return ApplicationFailure.create({
      type: GCS_NOT_FOUND,
      nonRetryable: true,
      message: `${uri} does not exist (does the bucket exist in this project?)`,
      cause: err instanceof Error ? err : undefined,
    });
  }
  if (code === 401 || code === 403) {
    return ApplicationFailure.create({
      type: GCS_PERMISSION_DENIED,
      nonRetryable: true,
      message: `the worker's credentials may not access ${uri}: grant its service account roles/storage.objectAdmin on the bucket`,
      cause: err instanceof Error ? err : undefined,
    });
  }
  return err;
}
