// Behaviour that needs an emulator of its own (global settings, restarts): started in-process on
// free ports, talked to through the real client, exactly as the shared one.
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { v1 } from '@google-cloud/aiplatform';
import * as grpc from '@grpc/grpc-js';
import { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { startControlApi } from '../../emulators/vertex-ai/control-api';
import { startEmulator, type Emulator } from '../../emulators/vertex-ai/grpc-server';
import { testStorage } from '../helpers/temporal';
import { kfpSpecStruct, parentOf, uniqueProject, value, waitForState } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

interface Running {
  emulator: Emulator;
  control: VertexEmulatorControl;
  http: Server;
  pipelines: v1.PipelineServiceClient;
  models: v1.ModelServiceClient;
  stop(): Promise<void>;
}

async function start(stateFile?: string): Promise<Running> {
  const emulator = await startEmulator({ port: 0, storage: testStorage(), stateFile });
  const http = await startControlApi({
    port: 0,
    store: emulator.store,
    engine: emulator.engine,
    policy: emulator.policy,
    grpcPort: emulator.port,
  });
  const opts = { apiEndpoint: '127.0.0.1', port: emulator.port, sslCreds: grpc.credentials.createInsecure() };
  const pipelines = new v1.PipelineServiceClient(opts);
  const models = new v1.ModelServiceClient(opts);
  const control = new VertexEmulatorControl(`http://127.0.0.1:${(http.address() as { port: number }).port}`);
  return {
    emulator,
    control,
    http,
    pipelines,
    models,
    async stop() {
      await pipelines.close();
      await models.close();
      await new Promise((r) => http.close(r));
      await emulator.stop();
    },
  };
}

const job = () => ({
  displayName: 'standalone',
  pipelineSpec: kfpSpecStruct(),
  runtimeConfig: {
    gcsOutputDirectory: `gs://${testStack().CT_TEST_GCS_BUCKET}/standalone`,
    parameterValues: { partition: value('2026-11-21') },
  },
});

test('with a state file, jobs and models survive a restart', async () => {
  const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'vertex-state-')), 'state.json');
  const project = uniqueProject();
  const first = await start(stateFile);
  let jobName: string;
  let modelName: string;
  try {
    await first.control.addRule({ match: { project }, script: { holdIn: 'RUNNING' } });
    const [created] = await first.pipelines.createPipelineJob({
      parent: parentOf(project),
      pipelineJobId: 'persisted',
      pipelineJob: job(),
    });
    jobName = created.name!;
    await waitForState(
      () => first.pipelines.getPipelineJob({ name: jobName }).then(([j]) => j),
      ['PIPELINE_STATE_RUNNING'],
    );
    const [op] = await first.models.uploadModel({
      parent: parentOf(project),
      model: { displayName: 'kept', containerSpec: { imageUri: 'img' } },
    });
    modelName = (await op.promise())[0].model!;
  } finally {
    await first.stop();
  }

  const second = await start(stateFile);
  try {
    const [again] = await second.pipelines.getPipelineJob({ name: jobName });
    expect(again.state).toBe('PIPELINE_STATE_RUNNING'); // still held, as scripted before the restart
    await second.control.advance(jobName);
    expect((await second.pipelines.getPipelineJob({ name: jobName }))[0].state).toBe('PIPELINE_STATE_SUCCEEDED');
    const [model] = await second.models.getModel({ name: modelName });
    expect(model.displayName).toBe('kept');
  } finally {
    await second.stop();
  }
});

test('with projectNumbers off, names keep the project id the client sent', async () => {
  const running = await start();
  try {
    await running.control.patchSettings({ projectNumbers: false });
    const project = uniqueProject();
    const [created] = await running.pipelines.createPipelineJob({
      parent: parentOf(project),
      pipelineJobId: 'named',
      pipelineJob: job(),
    });
    expect(created.name).toBe(`${parentOf(project)}/pipelineJobs/named`);
    await running.control.patchSettings({ projectNumbers: true });
    const [got] = await running.pipelines.getPipelineJob({ name: created.name });
    expect(got.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/pipelineJobs\/named$/);
  } finally {
    await running.stop();
  }
});

test('added latency per method holds the answer back, as the call log shows', async () => {
  const running = await start();
  try {
    await running.control.patchSettings({ latencyMs: { GetPipelineJob: 250 } });
    const [created] = await running.pipelines.createPipelineJob({
      parent: parentOf(uniqueProject()),
      pipelineJob: job(),
    });
    await running.pipelines.getPipelineJob({ name: created.name });
    const calls = await running.control.calls();
    const create = calls.find((c) => c.method === 'CreatePipelineJob')!;
    const get = calls.find((c) => c.method === 'GetPipelineJob')!;
    expect(get.durationMs).toBeGreaterThanOrEqual(250);
    expect(create.durationMs).toBeLessThan(250);
    expect(get.codeName).toBe('OK');
    // Counts by method outlive the log's window (benchmarks read them); the log's seq keeps rising.
    expect(await running.control.callCounts()).toEqual({ CreatePipelineJob: 1, GetPipelineJob: 1 });
    expect(calls.map((c) => c.seq)).toEqual([1, 2]);
    await running.control.clearCalls();
    expect(await running.control.callCounts()).toEqual({});
  } finally {
    await running.stop();
  }
});
