import {
  modelVersionConsoleUrl,
  trainingJobId,
  trainingOutputs,
  type AttemptPlan,
  type ModelPlan,
  type PredictionPlan,
  type RunPlan,
} from '../../contracts';

// Plans and activity results recorded before a fact moved into them lack that fact. A run replaying
// such a history (test/histories, or a run still open across a deploy) must issue the commands it
// issued when it was recorded, so here, and only here, the workflow derives a missing fact the way
// it did then. New plans always carry the fact; nothing else in workflows/ derives one.

/** Attempt n's job id and outputs: planned since the plan held them; before, from the workflow run id. */
export function attemptOf(plan: RunPlan, runId: string, attempt: number): AttemptPlan {
  const planned = plan.attempts?.[attempt - 1];
  if (planned) return planned;
  const jobId = trainingJobId(plan, runId, attempt);
  return { jobId, outputs: trainingOutputs(plan.training, jobId) };
}

/** A model version's console page: returned by registerCandidate since it did, built here before. */
export const modelConsoleUrl = (
  plan: Pick<RunPlan, 'region' | 'project'> & { model: Pick<ModelPlan, 'modelId'> },
  version: { versionId: string; consoleUrl?: string },
): string =>
  version.consoleUrl ?? modelVersionConsoleUrl(plan.region, plan.project, plan.model.modelId, version.versionId);

/** Plans recorded before approvals existed have no promotion: they promoted directly. */
export const promotionOf = (model: ModelPlan): ModelPlan['promotion'] => model.promotion ?? { mode: 'direct' };

/** Children per prediction workflow run before it continues as new: the knob's value, or what it was before the knob. */
export const childrenPerRunOf = (plan: Pick<PredictionPlan, 'childrenPerRun'>): number => plan.childrenPerRun ?? 250;
