import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/common';
import { classifyGcsError } from './errors';
import { INVALID_GCS_URI } from '../contracts';

/** gs://bucket/object → its parts; anything else is refused (retrying cannot fix a bad URI). */
export function gcsObject(uri: string): { bucket: string; object: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw ApplicationFailure.nonRetryable(`${uri} is not a gs://bucket/object URI`, INVALID_GCS_URI);
  return { bucket: m[1]!, object: m[2]! };
}

/** An object's text; a missing object or a denied read fails non-retryably with the reason. */
export async function readGcsText(storage: Storage, uri: string): Promise<string> {
  const { bucket, object } = gcsObject(uri);
  try {
    const [buf] = await storage.bucket(bucket).file(object).download();
    return buf.toString('utf8');
  } catch (err) {
    throw classifyGcsError(err, uri);
  }
}
