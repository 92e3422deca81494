import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities, RunPlan } from '../activities';
import { searchAttributes as sa, type TrainingJobRef, type TrainingJobOutputs, type TrainingPhase, type TrainingRunResult } from '../contracts';
import { evaluateGate } from './model-gate';

// After a SUCCEEDED job: judge the candidate, register it as a new version of the pipeline's model,
// promote it to `champion`, and announce it. A rejected candidate ends the run with the numbers
// side by side (a verdict, not a failure that pages someone at night).

const { readMetrics, findChampion, registerCandidate, promoteVersion, writeModelReady } = proxyActivities<Activities>({
  // Far longer than an upload takes, so a retry after a worker died mid-upload finds the version.
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

export interface PublishInput {
  plan: RunPlan & { model: NonNullable<RunPlan['model']> };
  job: TrainingJobRef;
  outputs: TrainingJobOutputs;
  runId: string;
  setPhase: (phase: TrainingPhase, reason?: string) => void;
}

export async function publishModel({ plan, job, outputs, runId, setPhase }: PublishInput): Promise<Pick<TrainingRunResult, 'status' | 'reason' | 'gate' | 'model'>> {
  const m = plan.model;
  const ref = { project: plan.project, region: plan.region, modelId: m.modelId };
  setPhase('evaluating');
  const metrics = await readMetrics({ uri: `${outputs.outputDirectory}/${m.metricsFile}` });
  const champion = m.champion ? await findChampion(ref) : null;
  const gate = evaluateGate(m, metrics, champion ?? undefined);
  if (!gate.passed) {
    setPhase('rejected', gate.reason);
    return { status: 'rejected', reason: gate.reason, gate };
  }

  setPhase('registering');
  const version = await registerCandidate({
    ...ref,
    displayName: m.displayName,
    servingImage: m.servingImage,
    artifactUri: outputs.modelDirectory,
    labels: m.labels,
    runLabel: job.id,
    metrics,
    partition: plan.partition,
  });
  upsertSearchAttributes([{ key: sa.modelVersion, value: `${m.modelId}@${version.versionId}` }]);
  // One call moves champion off the previous version: there is no moment without a champion.
  await promoteVersion({ region: plan.region, model: version.model, versionId: version.versionId, aliases: ['champion'] });
  const consoleUrl = `https://console.cloud.google.com/vertex-ai/models/locations/${plan.region}/models/${m.modelId}/versions/${version.versionId}?project=${plan.project}`;
  if (m.manifestUri) {
    await writeModelReady({
      manifestUri: m.manifestUri,
      flagUri: m.flagUri,
      manifest: {
        model: version.model,
        version: version.versionId,
        modelVersionName: `${version.model}@${version.versionId}`,
        aliases: ['candidate', 'champion'],
        metrics,
        pipeline: plan.pipeline,
        environment: plan.environment,
        segment: plan.segment ?? null,
        partition: plan.partition,
        trainedAt: new Date().toISOString(),
        trainingJob: job.name,
        workflowId: plan.workflowId,
        runId,
      },
    });
  }
  return { status: 'succeeded', gate, model: { name: version.model, version: version.versionId, aliases: ['candidate', 'champion'], consoleUrl, manifestUri: m.manifestUri } };
}
