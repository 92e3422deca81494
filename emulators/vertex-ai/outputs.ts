import type { Storage } from '@google-cloud/storage';
import { OutputWriteError, type OutputWriter } from './lifecycle';
import type { JobRecord } from './store';

// What a finished job leaves in GCS, written through the real Storage API (fake-gcs-server
// locally), so code under test reads outputs exactly as it would on Vertex.

export const DEFAULT_METRICS = { auc: 0.91, accuracy: 0.87, logloss: 0.31, rmse: 2.9 };

export function parseGcsUri(uri: string): { bucket: string; path: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new OutputWriteError(3, `"${uri}" is not a gs:// URI.`);
  return { bucket: m[1]!, path: m[2]! };
}

const join = (base: string, ...parts: string[]) => [base.replace(/\/+$/, ''), ...parts].join('/');

/** ISO time with milliseconds and Z, as Vertex names batch output folders. */
const isoMs = (ms: number) => new Date(ms).toISOString();

export class GcsOutputWriter implements OutputWriter {
  constructor(private readonly storage: Storage) {}

  async write(job: JobRecord): Promise<Record<string, unknown>> {
    switch (job.kind) {
      case 'pipelineJob': {
        const runtime = job.resource.runtimeConfig as { gcsOutputDirectory: string };
        // Pipeline artifacts land under {gcs_output_directory}/{job_id}/…
        await this.writeTraining(join(runtime.gcsOutputDirectory, job.ref.id), job);
        return {};
      }
      case 'customJob': {
        const spec = job.resource.jobSpec as { baseOutputDirectory?: { outputUriPrefix?: string } };
        const base = spec.baseOutputDirectory?.outputUriPrefix;
        // Vertex only tells the container AIP_MODEL_DIR when a base output directory is set.
        if (base) await this.writeTraining(base, job);
        return {};
      }
      case 'batchPredictionJob':
        return this.writeBatch(job);
    }
  }

  private async writeTraining(dir: string, job: JobRecord): Promise<void> {
    const metrics = job.script.metrics ?? DEFAULT_METRICS;
    await this.put(join(dir, 'metrics.json'), JSON.stringify(metrics, null, 2), 'application/json');
    await this.put(join(dir, 'model', 'model.bst'), `model trained by ${job.key}\n`, 'application/octet-stream');
    await this.put(
      join(dir, 'model', 'metadata.json'),
      JSON.stringify({ job: job.key, createdAt: new Date().toISOString(), framework: 'xgboost' }),
      'application/json',
    );
  }

  private async writeBatch(job: JobRecord): Promise<Record<string, unknown>> {
    const input = job.resource.inputConfig as { gcsSource?: { uris?: string[] }; instancesFormat?: string };
    const output = job.resource.outputConfig as {
      gcsDestination?: { outputUriPrefix: string };
      bigqueryDestination?: { outputUri: string };
    };
    const modelName = (
      typeof job.outputs.modelDisplayName === 'string' ? job.outputs.modelDisplayName : 'model'
    ).replace(/[^A-Za-z0-9_-]/g, '_');
    const instances = input.gcsSource
      ? await this.readInstances(input.gcsSource.uris ?? [], input.instancesFormat ?? 'jsonl')
      : defaultInstances(100);
    const failed = Math.min(
      instances.length,
      job.script.failedInstances ?? (job.script.outcome === 'PARTIALLY_SUCCEEDED' ? 1 : 0),
    );
    const ok = instances.slice(0, instances.length - failed);
    const bad = instances.slice(instances.length - failed);
    const completionStats = {
      successfulCount: String(ok.length),
      failedCount: String(bad.length),
      incompleteCount: '0',
    };
    const partialFailures = bad.length
      ? [{ code: 3, message: `${bad.length} instance(s) failed; see the errors file.` }]
      : [];

    if (output.bigqueryDestination) {
      const stamp = isoMs(job.createTime).replace(/[-:.]/g, '_');
      return {
        outputInfo: {
          bigqueryOutputDataset: `bq://${job.ref.project}.prediction_${modelName}_${stamp}`,
          bigqueryOutputTable: 'predictions',
        },
        completionStats,
        partialFailures,
      };
    }
    const dir = join(output.gcsDestination!.outputUriPrefix, `prediction-${modelName}-${isoMs(job.createTime)}`);
    const predictions = ok.map((instance, i) => JSON.stringify({ instance, prediction: score(job.key, i) })).join('\n');
    await this.put(join(dir, 'predictions_0001.jsonl'), predictions ? `${predictions}\n` : '', 'application/jsonl');
    const errors = bad.map((instance) =>
      JSON.stringify({ instance, error: { code: 3, message: 'Invalid instance (scripted by the emulator).' } }),
    );
    await this.put(join(dir, 'errors_0001.jsonl'), errors.length ? `${errors.join('\n')}\n` : '', 'application/jsonl');
    return { outputInfo: { gcsOutputDirectory: dir }, completionStats, partialFailures };
  }

  private async readInstances(uris: string[], format: string): Promise<unknown[]> {
    const instances: unknown[] = [];
    for (const uri of uris) {
      const { bucket, path } = parseGcsUri(uri);
      // Vertex accepts wildcards in input URIs; the prefix before the first * selects the objects.
      const star = path.indexOf('*');
      const names = await this.list(
        bucket,
        star === -1 ? path : path.slice(0, star),
        star === -1 ? undefined : globRegex(path),
      );
      if (!names.length) throw new OutputWriteError(3, `No files found matching ${uri}.`);
      for (const name of names) {
        const [buf] = await this.storage.bucket(bucket).file(name).download();
        const lines = buf
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim());
        if (format === 'csv') instances.push(...lines.slice(1));
        else instances.push(...lines.map((l) => safeJson(l)));
      }
    }
    return instances;
  }

  private async list(bucket: string, prefix: string, pattern?: RegExp): Promise<string[]> {
    try {
      const [files] = await this.storage.bucket(bucket).getFiles({ prefix });
      return files.map((f) => f.name).filter((n) => (pattern ? pattern.test(n) : n === prefix));
    } catch (err) {
      throw new OutputWriteError(5, `Cannot read gs://${bucket}/${prefix}: ${(err as Error).message}`);
    }
  }

  private async put(uri: string, content: string, contentType: string): Promise<void> {
    const { bucket, path } = parseGcsUri(uri);
    try {
      await this.storage.bucket(bucket).file(path).save(content, { resumable: false, contentType });
    } catch (err) {
      throw new OutputWriteError(9, `Failed to write ${uri}: ${(err as Error).message}`);
    }
  }
}

function globRegex(path: string): RegExp {
  return new RegExp(
    `^${path
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}

function defaultInstances(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({ id: i }));
}

/** A deterministic pseudo-score, so repeated runs of a test see the same predictions. */
function score(key: string, i: number): number {
  let h = 2166136261;
  for (const c of `${key}:${i}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return Math.round(((h >>> 0) / 2 ** 32) * 1e4) / 1e4;
}
