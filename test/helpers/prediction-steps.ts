import type { Storage } from '@google-cloud/storage';
import type { PredictionSummary } from '../../contracts';
import type { JobView } from '../../emulators/vertex-ai/control-schema';
import type { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { parentOf, type vertexClients } from './vertex';

// Steps the prediction suites share. The paths are where the test pipelines' prediction.input and
// prediction.summary point (test/helpers/pipelines.ts: batchPrediction; the fixture's likewise).

const BUCKET = 'ct-test-bucket';

/** Writes one input file per segment where the pipeline's prediction.input looks (`rows` per segment). */
export async function seedPredictionInputs(
  storage: Storage,
  pipeline: string,
  partition: string,
  segments: string[],
  rows: (segment: string) => object[] = (s) => [{ user: s }],
): Promise<void> {
  await Promise.all(
    segments.map((s) => {
      const [country, sns] = s.split('-');
      return storage
        .bucket(BUCKET)
        .file(`predict-in/${pipeline}/${partition}/${country!.toUpperCase()}-${sns}/part-0.jsonl`)
        .save(
          `${rows(s)
            .map((r) => JSON.stringify(r))
            .join('\n')}\n`,
          { resumable: false },
        );
    }),
  );
}

/** The summary the run wrote to its prediction.summary object. */
export async function writtenSummary(
  storage: Storage,
  pipeline: string,
  partition: string,
): Promise<PredictionSummary> {
  const [written] = await storage.bucket(BUCKET).file(`predict-out/${pipeline}/${partition}/_SUMMARY.json`).download();
  return JSON.parse(written.toString()) as PredictionSummary;
}

/** The batch jobs the emulator holds with these labels (and project), oldest first. */
export const batchJobs = async (
  control: VertexEmulatorControl,
  labels: Record<string, string>,
  project?: string,
): Promise<JobView[]> =>
  (await control.jobs({ kind: 'batchPredictionJob', labels, ...(project ? { project } : {}) })).sort((a, b) =>
    a.createTime.localeCompare(b.createTime),
  );

/** A batch job's segment, from the labels the coordinator gives it. */
export const segmentOf = (j: JobView) => `${j.labels['ct-country']}-${j.labels['ct-sns']}`;
/** A batch job's state without Vertex's JOB_STATE_ prefix. */
export const stateOf = (j: JobView) => j.state.replace('JOB_STATE_', '');

/**
 * Registers a new version of `modelId` in the project through the real client and makes it the
 * champion, as a training run's promotion would: `model@version`.
 */
export async function promoteChampion(
  vertex: ReturnType<typeof vertexClients>,
  project: string,
  modelId: string,
): Promise<string> {
  const existing = await vertex.models.getModel({ name: `${parentOf(project)}/models/${modelId}` }).then(
    ([m]) => m.name!,
    () => undefined,
  );
  const [op] = await vertex.models.uploadModel({
    parent: parentOf(project),
    ...(existing ? { parentModel: existing } : { modelId }),
    model: {
      displayName: modelId,
      artifactUri: `gs://ct-test-bucket/models/${modelId}`,
      containerSpec: { imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest' },
    },
  });
  const [done] = await op.promise();
  await vertex.models.mergeVersionAliases({
    name: `${done.model!}@${done.modelVersionId!}`,
    versionAliases: ['champion'],
  });
  const [champion] = await vertex.models.getModel({ name: `${done.model!}@champion` });
  return `${champion.name!}@${champion.versionId!}`;
}
