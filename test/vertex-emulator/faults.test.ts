// Fault injection and per-minute quotas as the real @google-cloud/aiplatform client sees them.
// The Node client retries none of these methods (all are "non_idempotent" in its config), so every
// injected fault reaches the caller. Faults and quotas are scoped to each test's own project: the
// emulator is shared with test files running in parallel.
import type { protos } from '@google-cloud/aiplatform';
import { uniqueId } from '../helpers/temporal';
import {
  emulatorControl,
  kfpSpecStruct,
  parentOf,
  rpcError,
  uniqueProject,
  value,
  vertexClients,
} from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

const clients = vertexClients();
const { pipelines, jobs } = clients;
const control = emulatorControl();

afterAll(async () => {
  await clients.close();
});

const Code = { ALREADY_EXISTS: 6, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
const NUMBER_NAME = /^projects\/(\d{12})\/locations\/us-central1\/pipelineJobs\/(.+)$/;

function pipelineJob(displayName: string): protos.google.cloud.aiplatform.v1.IPipelineJob {
  return {
    displayName,
    pipelineSpec: kfpSpecStruct(),
    // partition is the fixture's only parameter without a default.
    runtimeConfig: {
      gcsOutputDirectory: `gs://${testStack().CT_TEST_GCS_BUCKET}/pipeline-root`,
      parameterValues: { partition: value('2026-11-21') },
    },
  };
}

const createPipeline = (project: string, pipelineJobId: string) =>
  pipelines.createPipelineJob({ parent: parentOf(project), pipelineJobId, pipelineJob: pipelineJob(pipelineJobId) });

/** The job's name as the caller spelled the project (the id): faults are scoped by that spelling. */
const pipelineName = (project: string, id: string) => `${parentOf(project)}/pipelineJobs/${id}`;

const getPipeline = (name: string) => pipelines.getPipelineJob({ name });

function customJob(run: string): protos.google.cloud.aiplatform.v1.ICustomJob {
  return {
    displayName: `train-${run}`,
    labels: { run },
    jobSpec: {
      workerPoolSpecs: [
        {
          machineSpec: { machineType: 'n1-standard-4' },
          replicaCount: 1,
          containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer:1' },
        },
      ],
    },
  };
}

describe('a fault for the next N calls fails exactly those, then the method works again', () => {
  test.each([
    ['UNAVAILABLE', 14],
    ['RESOURCE_EXHAUSTED', 8],
    ['DEADLINE_EXCEEDED', 4],
    ['INTERNAL', 13],
  ] as const)('%s → code %i twice, then success', async (code, grpcCode) => {
    const project = uniqueProject();
    const id = uniqueId('pj');
    await createPipeline(project, id);
    await control.addFault({ method: 'GetPipelineJob', project, code, times: 2 });

    for (let i = 0; i < 2; i++) expect((await rpcError(getPipeline(pipelineName(project, id)))).code).toBe(grpcCode);
    const [job] = await getPipeline(pipelineName(project, id));
    expect(job.name).toMatch(NUMBER_NAME);
    expect(job.displayName).toBe(id);
  });
});

test('a fault carries its own message to the caller', async () => {
  const project = uniqueProject();
  const id = uniqueId('pj');
  await createPipeline(project, id);
  await control.addFault({ method: 'GetPipelineJob', project, code: 'INTERNAL', message: 'backend hiccup' });
  expect(await rpcError(getPipeline(pipelineName(project, id)))).toEqual({ code: 13, details: 'backend hiccup' });
});

test('a fault scoped to one project leaves other projects alone', async () => {
  const [faulty, healthy] = [uniqueProject(), uniqueProject()];
  const id = uniqueId('pj');
  await Promise.all([createPipeline(faulty, id), createPipeline(healthy, id)]);
  await control.addFault({ method: 'GetPipelineJob', project: faulty, code: 'UNAVAILABLE', times: 3 });
  for (let i = 0; i < 3; i++) await getPipeline(pipelineName(healthy, id));
  expect((await rpcError(getPipeline(pipelineName(faulty, id)))).code).toBe(Code.UNAVAILABLE);
});

test('a fault scoped to the project id also hits calls that name the project by its number', async () => {
  // Vertex (and the emulator) return names with the project number, and callers pass them back:
  // a fault on "this project" must not depend on which spelling the caller happened to use.
  const project = uniqueProject();
  const id = uniqueId('pj');
  const [created] = await createPipeline(project, id);
  expect(created.name).toMatch(NUMBER_NAME);
  await control.addFault({ method: 'GetPipelineJob', project, code: 'UNAVAILABLE', times: 1 });
  expect((await rpcError(getPipeline(created.name!))).code).toBe(Code.UNAVAILABLE);
});

describe('probabilistic faults', () => {
  // A probability fault has no count, so it never goes away: each case uses a project of its own.
  test('probability 1 fails every call', async () => {
    const project = uniqueProject();
    const id = uniqueId('pj');
    await createPipeline(project, id);
    await control.addFault({ method: 'GetPipelineJob', project, code: 'UNAVAILABLE', probability: 1 });
    for (let i = 0; i < 5; i++)
      expect((await rpcError(getPipeline(pipelineName(project, id)))).code).toBe(Code.UNAVAILABLE);
  });

  test('probability 0 fails none', async () => {
    const project = uniqueProject();
    const id = uniqueId('pj');
    await createPipeline(project, id);
    await control.addFault({ method: 'GetPipelineJob', project, code: 'UNAVAILABLE', probability: 0 });
    for (let i = 0; i < 5; i++) await getPipeline(pipelineName(project, id));
  });
});

describe('"created, but the answer was lost" (lose-response)', () => {
  test('CreatePipelineJob: the caller gets UNAVAILABLE, the job exists, a retry gets ALREADY_EXISTS', async () => {
    const project = uniqueProject();
    const id = uniqueId('pj');
    await control.addFault({ method: 'CreatePipelineJob', project, code: 'UNAVAILABLE', mode: 'lose-response' });

    expect((await rpcError(createPipeline(project, id))).code).toBe(Code.UNAVAILABLE);
    const [job] = await getPipeline(pipelineName(project, id));
    expect(job.displayName).toBe(id);
    // Retrying with the same pipelineJobId is how a caller finds out its create took effect.
    expect((await rpcError(createPipeline(project, id))).code).toBe(Code.ALREADY_EXISTS);
  });

  test('CreateCustomJob: the caller gets UNAVAILABLE, yet the job is found by its labels', async () => {
    const project = uniqueProject();
    const run = uniqueId('run');
    await control.addFault({ method: 'CreateCustomJob', project, code: 'UNAVAILABLE', mode: 'lose-response' });

    expect((await rpcError(jobs.createCustomJob({ parent: parentOf(project), customJob: customJob(run) }))).code).toBe(
      Code.UNAVAILABLE,
    );
    // CustomJob ids are server-made, so a label the caller chose is its only way back to the job.
    const [found] = await jobs.listCustomJobs({ parent: parentOf(project), filter: `labels.run="${run}"` });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ displayName: `train-${run}`, labels: { run } });
    expect(found[0]!.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/customJobs\/\d{19}$/);
  });
});

describe('creates that outlive the caller, slow answers and stale listings', () => {
  test('commit-late: the caller gets DEADLINE_EXCEEDED with nothing stored; the job appears after it gave up', async () => {
    const project = uniqueProject();
    const run = uniqueId('run');
    await control.addFault({
      method: 'CreateCustomJob',
      project,
      code: 'DEADLINE_EXCEEDED',
      mode: 'commit-late',
      commitAfterMs: 1_500,
    });
    const list = async () =>
      (await jobs.listCustomJobs({ parent: parentOf(project), filter: `labels.run="${run}"` }))[0];

    expect((await rpcError(jobs.createCustomJob({ parent: parentOf(project), customJob: customJob(run) }))).code).toBe(
      4,
    );
    expect(await list()).toHaveLength(0);
    await waitFor(async () => (await list()).length === 1, 5_000);
    expect((await list())[0]).toMatchObject({ displayName: `train-${run}` });
  });

  test('delay: the call succeeds, its answer held back', async () => {
    const project = uniqueProject();
    await control.addFault({ method: 'CreateCustomJob', project, mode: 'delay', delayMs: 1_000 });
    const started = Date.now();
    const [job] = await jobs.createCustomJob({ parent: parentOf(project), customJob: customJob(uniqueId('run')) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(job.name).toMatch(/customJobs\/\d{19}$/);
  });

  test('stale-list: a List does not show a job created within the lag; Get does', async () => {
    const project = uniqueProject();
    const run = uniqueId('run');
    await control.addFault({ method: 'ListBatchPredictionJobs', project, mode: 'stale-list', lagMs: 60_000, times: 1 });
    await control.addFault({ method: 'ListCustomJobs', project, mode: 'stale-list', lagMs: 60_000, times: 1 });
    const [created] = await jobs.createCustomJob({ parent: parentOf(project), customJob: customJob(run) });
    const list = async () =>
      (await jobs.listCustomJobs({ parent: parentOf(project), filter: `labels.run="${run}"` }))[0];
    expect(await list()).toHaveLength(0); // the stale listing
    expect(await list()).toHaveLength(1); // the fault was for one call
    expect((await jobs.getCustomJob({ name: created.name! }))[0].name).toBe(created.name);
  });

  test('a fault that cannot play out is refused with the field named', async () => {
    await expect(
      control.addFault({ method: 'CreateCustomJob', mode: 'commit-late', code: 'DEADLINE_EXCEEDED' }),
    ).rejects.toThrow(/commitAfterMs/);
    await expect(control.addFault({ method: 'CreateCustomJob', mode: 'reject' })).rejects.toThrow(/code/);
    await expect(control.addFault({ method: 'GetCustomJob', mode: 'stale-list', lagMs: 5 })).rejects.toThrow(/method/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Quota settings are global (only the project list scopes them) and changing them resets the
// emulator's per-minute windows, so every quota check lives in this one test.
test('per-minute quotas: CRUD and create calls over the limit are RESOURCE_EXHAUSTED, per project', async () => {
  const [limited, other, unlisted] = [uniqueProject(), uniqueProject(), uniqueProject()];
  const ids = [uniqueId('pj'), uniqueId('pj'), uniqueId('pj')];
  const listLimited = () => pipelines.listPipelineJobs({ parent: parentOf(limited) });
  try {
    await control.patchSettings({
      quota: { enabled: true, crudPerMinute: 3, createsPerMinute: 2, projects: [limited, other] },
    });

    // Creates: two per minute, the third is refused and not stored.
    await createPipeline(limited, ids[0]!);
    await createPipeline(limited, ids[1]!);
    const overCreate = await rpcError(createPipeline(limited, ids[2]!));
    expect(overCreate.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(overCreate.details).toContain("Quota exceeded for quota metric 'Job or LRO submission requests'");

    // CRUD (get/list) has its own budget of three, not spent by the creates above.
    await getPipeline(pipelineName(limited, ids[0]!));
    const [listed] = await listLimited();
    expect(listed.map((j) => j.displayName).sort()).toEqual([ids[0], ids[1]].sort());
    await getPipeline(pipelineName(limited, ids[1]!));
    for (const call of [() => getPipeline(pipelineName(limited, ids[0]!)), listLimited]) {
      const e = await rpcError(call());
      expect(e.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(e.details).toContain("Quota exceeded for quota metric 'Resource management (CRUD) requests'");
    }

    // Another listed project has budgets of its own; an unlisted one is not limited at all.
    for (const id of ids.slice(0, 2)) await createPipeline(other, id);
    for (let i = 0; i < 3; i++) await getPipeline(pipelineName(other, ids[0]!));
    for (const id of ids) await createPipeline(unlisted, id);
    for (let i = 0; i < 5; i++) await getPipeline(pipelineName(unlisted, ids[0]!));
  } finally {
    await control.patchSettings({ quota: { enabled: false } });
  }
  // Off again: the limited project's calls go through.
  expect((await listLimited())[0]).toHaveLength(2);
});

test('a quota on the project id also counts calls that name the project by its number', async () => {
  // Same spelling question as for faults: a caller that passes back the names Vertex returned
  // (number form) is still the same consumer and must not slip past the project's quota.
  const project = uniqueProject();
  const [created] = await createPipeline(project, uniqueId('pj'));
  try {
    await control.patchSettings({ quota: { enabled: true, crudPerMinute: 3, projects: [project] } });
    for (let i = 0; i < 3; i++) await getPipeline(created.name!);
    expect((await rpcError(getPipeline(created.name!))).code).toBe(Code.RESOURCE_EXHAUSTED);
  } finally {
    await control.patchSettings({ quota: { enabled: false } });
  }
});
