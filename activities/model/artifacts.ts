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

/** Each file's generation now (0: not there), so a write can be made only over what was read. */
export interface ModelReadyGenerations {
  manifest: string;
  flag?: string;
}

export async function modelReadyGenerations(
  storage: Storage,
  { manifestUri, flagUri }: Pick<ModelReadyFiles, 'manifestUri' | 'flagUri'>,
): Promise<ModelReadyGenerations> {
  const generation = async (uri: string) => {
    const { bucket, object } = gcsObject(uri);
    try {
      const [metadata] = await storage.bucket(bucket).file(object).getMetadata();
      return String(metadata.generation ?? 0);
    } catch (err) {
      if ((err as { code?: number }).code === 404) return '0';
      throw classifyGcsError(err, uri);
    }
  };
  return { manifest: await generation(manifestUri), flag: flagUri ? await generation(flagUri) : undefined };
}

/**
 * The manifest first, then the flag, so a flag-file consumer that sees the flag finds the manifest.
 * Both are overwritten on a retry (same content). With `over`, each is written only over the
 * generation read there: a newer announcement written meanwhile fails the write (retryably), and
 * the retry finds the champion moved on.
 */
export async function writeModelReadyFiles(
  storage: Storage,
  { manifestUri, flagUri, manifest }: ModelReadyFiles,
  over?: ModelReadyGenerations,
): Promise<void> {
  for (const [uri, content, type, generation] of [
    [manifestUri, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json', over?.manifest],
    ...(flagUri
      ? [[flagUri, `${String(manifest.model)}@${String(manifest.version)}\n`, 'text/plain', over?.flag]]
      : []),
  ] as [string, string, string, string | undefined][]) {
    const { bucket, object } = gcsObject(uri);
    try {
      await storage
        .bucket(bucket)
        .file(object)
        .save(content, {
          resumable: false,
          contentType: type,
          ...(generation === undefined ? {} : { preconditionOpts: { ifGenerationMatch: generation } }),
        });
    } catch (err) {
      if ((err as { code?: number }).code === 412)
        throw new Error(`${uri} was written by another announcement since it was read; looking at the champion again`, {
          cause: err,
        });
      throw classifyGcsError(err, uri);
    }
  }
}
