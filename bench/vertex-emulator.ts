// Measures the Vertex AI emulator: process start to ready, and the latency of a CreatePipelineJob
// + GetPipelineJob round trip through the real @google-cloud/aiplatform client. Prints JSON.
//   npm run bench:vertex [-- --iterations 100]
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { helpers, v1, type protos } from '@google-cloud/aiplatform';
import * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { ensureBuckets, startFakeGcs } from '../stack/gcs-server';
import { freePort } from '../stack/process';
import { readToolPaths, repoRoot } from '../stack/tools';
import { startVertexEmulator } from '../stack/vertex-emulator';
import { runBench } from './stack';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100' } } });
const iterations = Number(values.iterations);

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main() {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-'));
  const gcs = await startFakeGcs({
    binary: readToolPaths().fakeGcsServer,
    port: await freePort(),
    logFile: path.join(tmp, 'gcs.log'),
  });
  await ensureBuckets(gcs.endpoint, 'ct-bench', ['ct-bench']);
  const [port, controlPort] = [await freePort(), await freePort()];
  const t0 = performance.now();
  const emulator = await startVertexEmulator({
    port,
    controlPort,
    gcsEndpoint: gcs.endpoint,
    projectId: 'ct-bench',
    logFile: path.join(tmp, 'vertex.log'),
  });
  const startMs = performance.now() - t0;
  const client = new v1.PipelineServiceClient({
    apiEndpoint: emulator.host,
    port,
    sslCreds: grpc.credentials.createInsecure(),
  });
  const spec = helpers.toValue(
    parse(readFileSync(path.join(repoRoot, 'test/fixtures/kfp/training-pipeline.yaml'), 'utf8')) as object,
  ) as protos.google.protobuf.IValue;
  const parent = 'projects/ct-bench/locations/us-central1';
  const pipelineJob = {
    displayName: 'bench',
    pipelineSpec: spec.structValue,
    runtimeConfig: {
      gcsOutputDirectory: 'gs://ct-bench/root',
      parameterValues: {
        partition: helpers.toValue('2026-11-21' as unknown as object) as protos.google.protobuf.IValue,
      },
    },
  };
  try {
    // Warm-up: the first call pays for channel set-up.
    await client.getPipelineJob({ name: (await client.createPipelineJob({ parent, pipelineJob }))[0].name });
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const s = performance.now();
      const [job] = await client.createPipelineJob({ parent, pipelineJobId: `bench-${i}`, pipelineJob });
      await client.getPipelineJob({ name: job.name });
      samples.push(performance.now() - s);
    }
    samples.sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      emulatorStartMs: round(startMs),
      createGetRoundTrip: {
        iterations,
        medianMs: round(quantile(samples, 0.5)),
        p95Ms: round(quantile(samples, 0.95)),
        maxMs: round(samples.at(-1)!),
      },
    };
  } finally {
    await client.close();
    await emulator.service.stop();
    await gcs.service.stop();
  }
}

runBench('vertex-emulator', main);
