// After training: the gate, the Model Registry and model-ready, through a real worker, the
// emulator (ModelService) and fake GCS. One model sees four runs in order.
import { randomInt } from 'node:crypto';
import { startTrainingRun } from '../../client/training';
import type { TrainingRunResult } from '../../contracts';
import { maybeSaveHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import type { IsolatedProject } from '../helpers/isolation';
import { aucGate, dailyData, kfpTraining, modelReadyFiles, modelRegistry, projectWith } from '../helpers/pipelines';
import { emulatorControl, vertexClients } from '../helpers/vertex';

const control = emulatorControl();
const clients = vertexClients();
afterAll(() => clients.close());

// A Vertex project of the test's own, environment `models`, with `scored`: a candidate needs
// auc ≥ 0.8 and, once there is a champion, an auc 0.01 above the champion's; a promoted one is
// announced with a manifest and a flag.
let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith(
    {
      scored: {
        data: dailyData(['scored_data']),
        training: kfpTraining,
        model: {
          thresholds: aucGate,
          champion: { metric: 'auc', higherIsBetter: true, minImprovement: 0.01 },
          registry: modelRegistry,
          modelReady: modelReadyFiles(true),
        },
      },
    },
    'models',
  );
});
afterEach(() => iso.cleanup());

test('first model promoted; worse candidates rejected with the numbers; a better one takes champion; manifest and flag follow', async () => {
  await withWorker(
    async (ctx) => {
      const year = randomInt(30, 99);
      const run = async (day: number, auc: number): Promise<TrainingRunResult> => {
        const partition = `20${year}-01-0${day}`;
        await control.addRule({
          match: { project: ctx.project, labels: { 'ct-partition': partition } },
          script: { metrics: { auc, rmse: 2 } },
        });
        const handle = await startTrainingRun(
          ctx.client,
          iso.config,
          { pipeline: 'scored', environment: 'models', partition, assumeDataReady: true },
          { taskQueue: ctx.taskQueue },
        );
        const result = await handle.result();
        if (day === 4) await maybeSaveHistory(handle, 'training-run-published');
        return result;
      };

      const first = await run(1, 0.9);
      expect(first).toMatchObject({
        status: 'succeeded',
        model: { version: '1', aliases: ['candidate', 'champion'] },
        gate: { passed: true },
      });
      expect(first.gate!.checks.map((c) => c.check)).toEqual(['auc >= 0.8', 'auc vs champion (none yet)']);
      const modelName = first.model!.name;
      expect(modelName).toMatch(/\/models\/scored-models$/);

      const notBetter = await run(2, 0.905);
      expect(notBetter).toMatchObject({ status: 'rejected', gate: { passed: false } });
      expect(notBetter.reason).toBe('rejected: auc >= champion v1 (0.9 + 0.01) (candidate 0.905)');
      expect(notBetter.model).toBeUndefined();

      const belowThreshold = await run(3, 0.7);
      expect(belowThreshold.reason).toMatch(/^rejected: auc >= 0.8 \(candidate 0.7\); auc >= champion v1/);

      const better = await run(4, 0.95);
      expect(better).toMatchObject({ status: 'succeeded', model: { name: modelName, version: '2' } });

      // The registry: rejected candidates made no versions; champion moved, default stayed on v1.
      const [versions] = await clients.models.listModelVersions({ name: modelName });
      expect(versions.map((v) => [v.versionId, [...(v.versionAliases ?? [])].sort()])).toEqual([
        ['1', ['default']],
        ['2', ['candidate', 'champion']],
      ]);
      expect(versions[1]!.labels).toMatchObject({
        'ct-pipeline': 'scored',
        'ct-partition': `20${year}-01-04`,
        'ct-run': better.job!.id,
      });

      const [manifest] = await ctx.storage
        .bucket('ct-test-bucket')
        .file(`models/${ctx.project}/scored/models/manifest.json`)
        .download();
      expect(JSON.parse(manifest.toString())).toMatchObject({
        model: modelName,
        version: '2',
        metrics: { auc: 0.95, rmse: 2 },
        partition: `20${year}-01-04`,
        trainingJob: better.job!.name,
      });
      const [flag] = await ctx.storage
        .bucket('ct-test-bucket')
        .file(`models/${ctx.project}/scored/models/_READY`)
        .download();
      expect(flag.toString().trim()).toBe(`${modelName}@2`);

      // The run that made a version is found by it.
      const found = await eventually(async () => {
        const ids: string[] = [];
        for await (const w of ctx.client.workflow.list({
          query: `modelVersion = "scored-models@2" AND partition = "20${year}-01-04"`,
        }))
          ids.push(w.workflowId);
        return ids.length ? ids : undefined;
      });
      expect(found).toEqual([`training:models:scored:all:20${year}-01-04`]);
    },
    { project: iso },
  );
});
