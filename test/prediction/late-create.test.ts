// A segment's BatchPredictionJob whose first create answered DEADLINE_EXCEEDED and committed only
// after the retry's job had run and ended: the segment run keeps sweeping its label until no late
// create can land (CT_VERTEX_LATE_CREATE_WINDOW_MS) and cancels the late job (activities/vertex/duplicates.ts).
import { startPredictionRun } from '../../client/prediction';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { batchPrediction, dailyData, kfpTraining, modelRegistry, projectWith } from '../helpers/pipelines';
import { batchJobs, promoteChampion, seedPredictionInputs } from '../helpers/prediction-steps';
import { withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, untilJobState, vertexClients } from '../helpers/vertex';

jest.setTimeout(120_000);

const control = emulatorControl();
const [PIPELINE, ENV] = ['late-twins', 'late-env'];
let iso: IsolatedProject;
let vertex: ReturnType<typeof vertexClients>;
beforeAll(() => (vertex = vertexClients()));
afterAll(() => vertex.close());
beforeEach(() => {
  iso = projectWith(
    {
      [PIPELINE]: {
        data: dailyData(['late_twins_data']),
        training: kfpTraining,
        model: { registry: modelRegistry },
        prediction: batchPrediction({ countries: ['JP'], sns: ['instagram'] }),
      },
    },
    ENV,
  );
});
afterEach(() => iso.cleanup());

test('a create that lands after the segment’s job has ended: the run sweeps until no late create can land and cancels it', async () => {
  const partition = uniquePartition('daily');
  // With a window of 0 (none) the run ends with its job and the late job runs on, owned by no one.
  await withWorker(
    async (ctx) => {
      await promoteChampion(vertex, iso.project, `${PIPELINE}-${ENV}`);
      await seedPredictionInputs(ctx.storage, PIPELINE, partition, ['jp-instagram']);
      // The first create answers DEADLINE_EXCEEDED at once and lands 15 s later; the retry has made its job by then.
      await control.addFault({
        method: 'CreateBatchPredictionJob',
        project: iso.project,
        code: 'DEADLINE_EXCEEDED',
        mode: 'commit-late',
        commitAfterMs: 15_000,
        times: 1,
      });
      await control.addRule({
        match: { kind: 'batchPredictionJob', project: iso.project },
        script: { holdIn: 'RUNNING' },
      });
      const handle = await startPredictionRun(
        ctx.client,
        iso.config,
        { pipeline: PIPELINE, environment: ENV, partition },
        { taskQueue: ctx.taskQueue },
      );
      const [watched] = await eventually(async () => {
        const jobs = await batchJobs(control, { 'ct-partition': partition }, iso.project);
        return jobs.length === 1 ? jobs : undefined;
      }, 60_000);
      await untilJobState(control, watched!.name, 'JOB_STATE_RUNNING');
      await control.advance(watched!.name); // the retry's job succeeds, then the late create lands
      const summary = await handle.result();
      expect(summary).toMatchObject({ verdict: 'succeeded', progress: { total: 1, succeeded: 1 } });

      const jobs = await batchJobs(control, { 'ct-partition': partition }, iso.project);
      expect(jobs).toHaveLength(2);
      const late = jobs.find((j) => j.name !== watched!.name)!;
      const ended = (await control.job(watched!.name)).endTime!;
      expect(Date.parse(late.createTime)).toBeGreaterThan(Date.parse(ended));
      expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(late.state);
      const cancels = (await control.calls({ method: 'CancelBatchPredictionJob', project: iso.project })).map(
        (c) => (c.request as { name: string }).name,
      );
      expect(cancels).toEqual([late.name]);
    },
    { project: iso, lateCreateWindowMs: 25_000 },
  );
});
