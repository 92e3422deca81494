import { CancelledFailure } from '@temporalio/common';
import { CancellationScope, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { RunPlan } from '../../contracts';
import {
  formatDuration,
  searchAttributes as sa,
  type GateResult,
  type ModelReady,
  type TrainingJobOutputs,
  type TrainingJobRef,
  type TrainingRunResult,
} from '../../contracts';
import { evaluateGate } from './model-gate';
import type { TrainingRunState } from './training-run-state';
import { serviceCall } from './activity-options';
import { modelConsoleUrl, promotionOf } from './legacy-plans';

// After a SUCCEEDED job: judge the candidate, register it as a new version of the pipeline's model,
// promote it to `champion` (at once, or when a person approves), and announce it. A rejected
// candidate ends the run with the numbers side by side (a verdict, not a failure that pages someone).

const { readMetrics, findChampion, promoteVersion, writeModelReady, announceModel } =
  proxyActivities<Activities>(serviceCall);

export interface PublishInput {
  plan: RunPlan & { model: NonNullable<RunPlan['model']> };
  job: TrainingJobRef;
  outputs: TrainingJobOutputs;
  runId: string;
  /** The run's state: the gate, the version and the approval show in its query and current details. */
  run: TrainingRunState;
}

type Published = Pick<TrainingRunResult, 'status' | 'reason' | 'gate' | 'model' | 'approval'>;

export async function publishModel(p: PublishInput): Promise<Published> {
  const { plan, run } = p;
  const ref = { project: plan.project, region: plan.region, modelId: plan.model.modelId };
  const { metrics, gate } = await judgeCandidate(p, ref);
  if (!gate.passed) {
    run.setPhase('rejected', gate.reason);
    return { status: 'rejected', reason: gate.reason, gate };
  }
  const version = await registerVersion(p, ref, metrics);
  const refused = await awaitApproval(p, version, gate);
  if (refused) return refused;
  // A cancel that came while the upload finished stops the run here, before the champion moves.
  if (CancellationScope.current().consideredCancelled)
    throw new CancelledFailure('run cancelled before its candidate was promoted');
  // Past this point the champion moves: finish announcing it even if the run is cancelled meanwhile,
  // or consumers would never hear of the model that now serves.
  await CancellationScope.nonCancellable(() => promoteAndAnnounce(p, version, metrics));
  return { status: 'succeeded', gate, model: run.status.model, approval: run.status.approval };
}

type ModelRef = { project: string; region: string; modelId: string };
type Metrics = Awaited<ReturnType<Activities['readMetrics']>>;
type Version = Awaited<ReturnType<Activities['registerCandidate']>>;

/** The candidate's metrics against the gate (and the champion's, when the gate compares). */
async function judgeCandidate({ plan, outputs, run }: PublishInput, ref: ModelRef) {
  const m = plan.model;
  run.setPhase('evaluating');
  const metrics = await readMetrics({ uri: `${outputs.outputDirectory}/${m.metricsFile}` });
  const champion = m.champion ? await findChampion(ref) : null;
  const gate = evaluateGate(m, metrics, champion ?? undefined);
  run.recordGate(gate);
  return { metrics, gate };
}

/** The candidate as a new version of the pipeline's model, aliased `candidate`. */
async function registerVersion({ plan, job, outputs, run }: PublishInput, ref: ModelRef, metrics: Metrics) {
  const m = plan.model;
  run.setPhase('registering');
  // UploadModel has no idempotency key: the retry of an attempt whose worker died must come after
  // that upload finished, so it finds the version by label instead of making a second one.
  const { registerCandidate } = proxyActivities<Activities>({
    ...serviceCall,
    startToCloseTimeout: m.uploadTimeoutMs ?? '5 minutes',
  });
  // Not cancellable: an upload cannot be taken back, so a cancel waits for it and the run reports
  // the version it made (as `candidate` only) instead of leaving one the run never heard of.
  const version = await CancellationScope.nonCancellable(() =>
    registerCandidate({
      ...ref,
      displayName: m.displayName,
      servingImage: m.servingImage,
      artifactUri: outputs.modelDirectory,
      labels: m.labels,
      runLabel: job.id,
      metrics,
      partition: plan.partition,
    }),
  );
  upsertSearchAttributes([{ key: sa.modelVersion, value: `${m.modelId}@${version.versionId}` }]);
  run.recordModel({
    name: version.model,
    version: version.versionId,
    aliases: ['candidate'],
    consoleUrl: modelConsoleUrl(plan, version),
    manifestUri: m.manifestUri,
  });
  return version;
}

/** With promotion by approval: waits for a person's decision; the run's result if the candidate is not promoted. */
async function awaitApproval(
  { plan, run }: PublishInput,
  version: Version,
  gate: GateResult,
): Promise<Published | undefined> {
  const promotion = promotionOf(plan.model);
  if (promotion.mode !== 'approval') return undefined;
  const modelVersion = `${plan.model.modelId}@${version.versionId}`;
  run.setPhase(
    'awaiting-approval',
    `candidate ${modelVersion} passed the gate; waiting up to ${formatDuration(promotion.timeoutMs)} for ct approve / ct reject (silence means ${promotion.onTimeout})`,
  );
  const approval = await run.awaitDecision(
    promotion.timeoutMs,
    `no decision within ${formatDuration(promotion.timeoutMs)}; the config says ${promotion.onTimeout}`,
  );
  const promote =
    approval.decision === 'approved' || (approval.decision === 'timed-out' && promotion.onTimeout === 'promote');
  if (promote) return undefined;
  const reason =
    approval.decision === 'rejected'
      ? `rejected by ${approval.by}: ${approval.reason}`
      : `rejected: ${approval.reason}`;
  run.setPhase('rejected', reason);
  return { status: 'rejected', reason, gate, model: run.status.model, approval };
}

/** Moves `champion` to the version and tells consumers (manifest, flag, signals). */
async function promoteAndAnnounce({ plan, job, runId, run }: PublishInput, version: Version, metrics: Metrics) {
  const m = plan.model;
  // One call moves champion off the previous version: there is no moment without a champion.
  await promoteVersion({
    region: plan.region,
    model: version.model,
    versionId: version.versionId,
    aliases: ['champion'],
  });
  run.recordModel({ ...run.status.model!, aliases: ['candidate', 'champion'] });
  const manifest: ModelReady = {
    environment: plan.environment,
    pipeline: plan.pipeline,
    segment: plan.segment ?? null,
    model: version.model,
    version: version.versionId,
    modelVersionName: `${version.model}@${version.versionId}`,
    aliases: ['candidate', 'champion'],
    metrics,
    partition: plan.partition,
    trainedAt: new Date().toISOString(),
    trainingJob: job.name,
    workflowId: plan.workflowId,
    runId,
    manifestUri: m.manifestUri,
  };
  // patched: runs recorded before announcements signalled consumers replay with the files only.
  if (patched('announce-model')) {
    const told = await announceModel({ manifest, manifestUri: m.manifestUri, flagUri: m.flagUri });
    run.recordModel({ ...run.status.model!, ...told });
  } else if (m.manifestUri) {
    await writeModelReady({ manifestUri: m.manifestUri, flagUri: m.flagUri, manifest });
  }
}
