import type { Storage } from '@google-cloud/storage';
import { classifyGcsError } from './errors';

export interface StackCheckDeps {
  storage: Storage;
}

export interface ProbeRef {
  bucket: string;
  object: string;
}

const uriOf = (p: ProbeRef) => `gs://${p.bucket}/${p.object}`;

export function createStackCheckActivities({ storage }: StackCheckDeps) {
  return {
    async writeProbe(probe: ProbeRef & { content: string }): Promise<{ objectUri: string; bytes: number }> {
      const file = storage.bucket(probe.bucket).file(probe.object);
      try {
        // Non-resumable: a probe is tiny, and a single request is idempotent under retry.
        await file.save(probe.content, { resumable: false, contentType: 'text/plain' });
      } catch (err) {
        throw classifyGcsError(err, uriOf(probe));
      }
      return { objectUri: uriOf(probe), bytes: Buffer.byteLength(probe.content) };
    },

    async readProbe(probe: ProbeRef): Promise<string> {
      try {
        const [buf] = await storage.bucket(probe.bucket).file(probe.object).download();
        return buf.toString('utf8');
      } catch (err) {
        throw classifyGcsError(err, uriOf(probe));
      }
    },

    async deleteProbe(probe: ProbeRef): Promise<void> {
      // ignoreNotFound: a retry after a delete whose response was lost must still succeed.
      await storage.bucket(probe.bucket).file(probe.object).delete({ ignoreNotFound: true });
    },
  };
}
