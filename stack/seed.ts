import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import type { PipelineConfig } from '../config/pipeline-config';
import { ensureBuckets } from './gcs-server';
import { repoRoot } from './tools';

const kfpFixture = path.join(repoRoot, 'test', 'fixtures', 'kfp', 'training-pipeline.yaml');

/** Fills the placeholders a bucket or spec path can depend on before a run exists. */
function perEnvironment(uri: string, vars: Record<string, string>): string {
  return uri.replace(/\{([a-z]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/**
 * Makes fake GCS look like the config's world: every bucket it names exists, and each
 * pipelineSpecUri holds the compiled KFP fixture (unless something is already there).
 */
export async function seedFromConfig(
  endpoint: string,
  projectId: string,
  config: PipelineConfig,
): Promise<{ buckets: string[]; specs: string[] }> {
  const storage = new Storage({ apiEndpoint: endpoint, projectId, useAuthWithCustomEndpoint: false });
  const buckets = new Set<string>();
  const specs = new Set<string>();
  for (const [pipeline, p] of Object.entries(config.pipelines)) {
    for (const [environment, env] of Object.entries(p.environments)) {
      const vars = { environment, pipeline, project: env.project, region: env.region };
      const uris = [
        env.pipelineRoot,
        p.training.kind === 'pipelineJob' ? p.training.pipelineSpecUri : p.training.baseOutputDirectory,
      ].map((u) => perEnvironment(u, vars));
      for (const uri of uris) buckets.add(/^gs:\/\/([^/]+)/.exec(uri)![1]!);
      if (p.training.kind === 'pipelineJob') specs.add(perEnvironment(p.training.pipelineSpecUri, vars));
    }
  }
  await ensureBuckets(endpoint, projectId, [...buckets]);
  for (const uri of specs) {
    const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    const [exists] = await storage.bucket(bucket!).file(object!).exists();
    if (!exists) await storage.bucket(bucket!).upload(kfpFixture, { destination: object!, resumable: false });
  }
  return { buckets: [...buckets].sort(), specs: [...specs].sort() };
}
