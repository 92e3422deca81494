import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/common';
import { classifyGcsError } from '../errors';
import { gcsObject, readGcsText } from '../gcs';
import { INVALID_METRICS } from '../../contracts';

export function createModelArtifactActivities(deps: { storage: Storage }) {
  return {
    /** The numbers the job wrote (a flat JSON object); anything else is refused with the reason. */
    async readMetrics({ uri }: { uri: string }): Promise<Record<string, number>> {
      const text = await readGcsText(deps.storage, uri);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw ApplicationFailure.nonRetryable(`${uri} is not JSON`, INVALID_METRICS);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw ApplicationFailure.nonRetryable(`${uri} must hold a JSON object of metrics`, INVALID_METRICS);
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number'));
    },

    /** The model-ready files of runs recorded before announcements also signalled consumers. */
    async writeModelReady(req: ModelReadyFiles): Promise<void> {
      await writeModelReadyFiles(deps.storage, req);
    },
  };
}

export interface ModelReadyFiles {
  manifestUri: string;
  flagUri?: string;
  manifest: Record<string, unknown>;
}

/**
 * The manifest first, then the flag, so a flag-file consumer that sees the flag finds the manifest.
 * Both are overwritten on a retry (same content).
 */
export async function writeModelReadyFiles(
  storage: Storage,
  { manifestUri, flagUri, manifest }: ModelReadyFiles,
): Promise<void> {
  for (const [uri, content, type] of [
    [manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json'],
    ...(flagUri ? [[flagUri, `${String(manifest.model)}@${String(manifest.version)}\n`, 'text/plain']] : []),
  ] as [string, string, string][]) {
    const { bucket, object } = gcsObject(uri);
    try {
      await storage.bucket(bucket).file(object).save(content, { resumable: false, contentType: type });
    } catch (err) {
      throw classifyGcsError(err, uri);
    }
  }
}
