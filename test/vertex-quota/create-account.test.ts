// One Vertex create quota per project and region across every worker (infra/vertex/budget.ts and
// the account every worker shares, workflows/vertex-create-account.ts): a worker alone creates at
// the whole quota at once, and two workers together never exceed it in any 60 s, as the emulator
// counts. Two real workers on one task queue, each with a budget of its own set to the whole quota,
// in a Vertex project of the test's own.
import { createVertexClientFactory, type VertexClientFactory } from '../../infra/vertex/clients';
import type { IsolatedProject } from '../helpers/isolation';
import { projectWith } from '../helpers/pipelines';
import { withWorker } from '../helpers/temporal';
import { emulatorControl, LOCATION, parentOf } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(240_000);

const control = emulatorControl();
let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith({});
});
afterEach(() => iso.cleanup());

const QUOTA = 4;
const worker = () =>
  createVertexClientFactory({
    VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
    CT_VERTEX_CREATES_PER_MINUTE: QUOTA,
    CT_VERTEX_BUDGET_MAX_WAIT_MS: 120_000,
  });

/** A submission as Vertex counts it ("Job or LRO submission requests"), through a worker's clients. */
const upload = (vertex: VertexClientFactory, id: string) =>
  vertex(LOCATION).models.uploadModel({
    parent: parentOf(iso.project),
    modelId: id,
    model: { displayName: id, artifactUri: 'gs://ct-test-bucket/model/', containerSpec: { imageUri: 'img' } },
  });

/** The most calls any window of `windowMs` holds. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (const [end, t] of sorted.entries()) {
    while (sorted[start]! <= t - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

test('a worker alone creates at the whole quota at once; two workers together never exceed it in any 60 s', async () => {
  const a = worker();
  const b = worker();
  try {
    await withWorker(
      (ctx) =>
        withWorker(
          async () => {
            const uploads = async () =>
              (await control.calls({ project: iso.project }))
                .filter((c) => c.method === 'UploadModel')
                .map((c) => Date.parse(c.time));
            // Worker a alone: the whole quota goes at once (a slice per worker would hold it to half).
            await Promise.all(Array.from({ length: QUOTA }, (_, i) => upload(a, `alone-${i}`)));
            const alone = await uploads();
            expect(alone).toHaveLength(QUOTA);
            expect(Math.max(...alone) - Math.min(...alone)).toBeLessThan(3_000);

            // Both at once, each with a budget of its own that has room: together they wait for the minute.
            await Promise.all([...[0, 1].map((i) => upload(a, `a-${i}`)), ...[0, 1].map((i) => upload(b, `b-${i}`))]);
            const all = await uploads();
            expect(all).toHaveLength(QUOTA + 4);
            expect(busiestWindow(all, 60_000)).toBeLessThanOrEqual(QUOTA);
            expect((await control.calls({ project: iso.project })).filter((c) => c.codeName !== 'OK')).toEqual([]);
          },
          { taskQueue: ctx.taskQueue, project: iso, vertex: b },
        ),
      { project: iso, vertex: a },
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
