import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { helpers, v1, type protos } from '@google-cloud/aiplatform';
import * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { createMonitoringClient } from '../../infra/monitoring';
import { testStack } from '../setup/test-stack';
import { eventually } from './eventually';

export const LOCATION = 'us-central1';

/** A project of its own per test: faults, rules and quotas scoped to it touch no other test. */
export function uniqueProject(): string {
  return `ct-test-${randomUUID().slice(0, 8)}`;
}

export const parentOf = (project: string) => `projects/${project}/locations/${LOCATION}`;

/** The real @google-cloud/aiplatform clients, over gRPC without TLS to the emulator. */
export function vertexClients() {
  const env = testStack();
  const opts = {
    apiEndpoint: env.CT_TEST_VERTEX_HOST,
    port: env.CT_TEST_VERTEX_PORT,
    sslCreds: grpc.credentials.createInsecure(),
  };
  const clients = {
    pipelines: new v1.PipelineServiceClient(opts),
    jobs: new v1.JobServiceClient(opts),
    models: new v1.ModelServiceClient(opts),
    endpoints: new v1.EndpointServiceClient(opts),
    predictions: new v1.PredictionServiceClient(opts),
  };
  return { ...clients, close: () => Promise.all(Object.values(clients).map((c) => c.close())) };
}

/** The real @google-cloud/monitoring MetricServiceClient, against the emulator (as a worker's MONITORING_API_ENDPOINT). */
export function monitoringClient() {
  return createMonitoringClient({ MONITORING_API_ENDPOINT: testStack().CT_TEST_MONITORING_ENDPOINT });
}

export function emulatorControl(): VertexEmulatorControl {
  return new VertexEmulatorControl(testStack().CT_TEST_VERTEX_CONTROL_URL);
}

export const kfpFixturePath = path.join(__dirname, '..', 'fixtures', 'kfp', 'training-pipeline.yaml');

/** The compiled KFP pipeline fixture as the Struct a PipelineJob carries. */
export function kfpSpecStruct() {
  const spec = parse(readFileSync(kfpFixturePath, 'utf8')) as object;
  return value(spec).structValue!;
}

type IValue = protos.google.protobuf.IValue;
/** A JSON value as google.protobuf.Value (helpers.toValue also takes primitives at run time). */
export const value = (v: unknown): IValue => helpers.toValue(v as object) as IValue;

/** Polls `get` until the resource reaches one of `states`. */
export async function waitForState<T extends { state?: unknown }>(
  get: () => Promise<T>,
  states: string[],
  timeoutMs = 15_000,
): Promise<T> {
  return eventually(async () => {
    const r = await get();
    return states.includes(String(r.state)) ? r : undefined;
  }, timeoutMs);
}

/** The gRPC error a call rejects with (code and details), or fails the test if it resolves. */
export async function rpcError(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    return { code: e.code ?? -1, details: e.details ?? e.message ?? '' };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Waits until the emulator holds the job in `state` (e.g. a rule's `holdIn` reached), full Vertex name of the state. */
export const untilJobState = (control: VertexEmulatorControl, name: string, state: string, timeoutMs = 20_000) =>
  eventually(async () => ((await control.job(name)).state === state ? true : undefined), timeoutMs);

/** The next `method` call in `project` does its work, but its answer is lost (UNAVAILABLE) after `delayMs`. */
export const loseNextAnswer = (control: VertexEmulatorControl, project: string, method: string, delayMs?: number) =>
  control.addFault({
    method,
    project,
    code: 'UNAVAILABLE',
    mode: 'lose-response',
    ...(delayMs ? { delayMs } : {}),
    times: 1,
  });

/** Cancel calls the emulator received for each of the project's jobs. */
export async function cancelsByJob(control: VertexEmulatorControl, project: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const c of (await control.calls({ project })).filter((c) => c.method.startsWith('Cancel'))) {
    const name = (c.request as { name: string }).name;
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}
