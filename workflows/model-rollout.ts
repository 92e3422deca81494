import {
  ActivityFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  metricMeter,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { parsePayload, RolloutInput, searchAttributes as sa, type RolloutPlan, type RolloutResult } from '../contracts';
import { metrics as m } from '../observability/metrics';
import { planning, serviceCall, vertexCall } from './support/activity-options';
import { judge, splitAt, type Verdict } from './support/rollout-health';
import { RolloutState } from './support/rollout-state';

// A new champion rolled out to its Vertex Endpoint by canary steps. The candidate is deployed with
// no traffic (after a smoke prediction on an endpoint of its own), then takes each step's share
// while its health is read from Cloud Monitoring; unhealthy health rolls back at once, health that
// cannot be shown never lets a step pass. Rolling back restores the split from before the rollout
// and undeploys the candidate; a cancel is a rollback. After 100 % the previous models stay
// deployed, without traffic, for `keepPrevious`, then are undeployed.
//
// One rollout per endpoint target (its workflow id): a newer champion promoted meanwhile is
// signalled to the one in flight, which rolls its canary back (or, if already at 100 %, finishes at
// once) and continues as new with the newer version. The newest champion is always what ends up serving.

const { planRollout } = proxyActivities<Activities>(planning);
const { describeEndpoint, setTrafficSplit, promoteVersion } = proxyActivities<Activities>(serviceCall);
/** A health read that fails is retried once; past that the check is unknown and the next check reads again. */
const { readHealth } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 2 },
});
const { ensureEndpoint, undeployModel, smokePredict } = proxyActivities<Activities>(vertexCall);
/** A deploy takes minutes on Vertex; the activity heartbeats its operation every 5 s, so a dead worker is noticed in 15 s. */
const { deployVersion } = proxyActivities<Activities>({
  ...vertexCall,
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '15 seconds',
});

// Recorded from workflow code: the SDK's workflow meter emits nothing while a history replays.
const rolloutsEnded = metricMeter.createCounter(m.rolloutsEnded.name, undefined, m.rolloutsEnded.help);
const stepDuration = metricMeter.createHistogram(m.rolloutStepDuration.name, 'float', 's', m.rolloutStepDuration.help);

export async function modelRollout(raw: RolloutInput): Promise<RolloutResult> {
  const input = parsePayload(RolloutInput, raw, 'rollout');
  const plan = await planRollout(input);
  const state = new RolloutState(plan);
  upsertSearchAttributes([
    { key: sa.pipeline, value: plan.pipeline },
    { key: sa.environment, value: plan.environment },
    { key: sa.modelVersion, value: `${plan.modelId}@${plan.version}` },
    ...(plan.segment ? [{ key: sa.segment, value: plan.segment }] : []),
  ]);
  let result: RolloutResult;
  try {
    result = await rollOut(plan, state);
  } catch (err) {
    if (!isCancellation(err) || !state.status.endpoint) throw err;
    await CancellationScope.nonCancellable(() => rollBack(plan, state, 'cancelled by an operator'));
    throw err;
  }
  if (state.newer) {
    await continueAsNew<typeof modelRollout>({
      ...input,
      version: state.newer.version,
      startedBy: state.newer.startedBy,
    });
  }
  return result;
}

async function rollOut(plan: RolloutPlan, state: RolloutState): Promise<RolloutResult> {
  state.setPhase('deploying');
  const endpoint = await ensureEndpoint({ plan, displayName: plan.endpointDisplayName });
  const before = state.status.splitBefore ?? endpoint.split;
  state.status.splitBefore = before;
  state.setEndpoint(endpoint.name, endpoint.split);
  if (plan.smoke) {
    const failed = await smoke(plan, state);
    if (failed) return end(plan, state, 'rolled-back', failed);
  }
  state.setPhase('deploying');
  state.deployStarted('candidate');
  const candidate = await deployVersion({ plan, endpoint: endpoint.name });
  state.status.candidateDeployedModelId = candidate;
  const previous = Object.keys(before).filter((id) => id !== candidate);
  // A first rollout has nothing to share traffic with: its one step is 100 %, still watched.
  const steps = previous.length ? plan.steps : [100];
  for (const [index, percent] of steps.entries()) {
    if (plan.approveEachStep) {
      state.status.step = { index, percent, startedAt: new Date().toISOString() };
      state.setPhase('awaiting-approval', `approve step ${percent} % with ct rollout approve`);
      await condition(() => state.stepApproved(index) || !!state.newer);
    }
    if (state.newer) return rollBack(plan, state, `superseded by version ${state.newer.version}`, 'superseded');
    const split = splitAt(before, candidate, percent);
    await setTrafficSplit({ region: plan.region, endpoint: endpoint.name, split });
    state.setSplit(split);
    state.status.step = { index, percent, startedAt: new Date().toISOString() };
    state.setPhase('canary', '');
    const stepStart = Date.now();
    const verdict = await watchStep(plan, state, candidate, previous);
    stepDuration.record((Date.now() - stepStart) / 1000, {
      pipeline: plan.pipeline,
      environment: plan.environment,
      percent: String(percent),
      verdict: verdict.kind,
    });
    if (verdict.kind === 'superseded') return rollBack(plan, state, verdict.reason, 'superseded');
    if (verdict.kind !== 'healthy') return rollBack(plan, state, `step ${percent} %: ${verdict.reason}`);
  }
  await promoteVersion({ region: plan.region, model: plan.model, versionId: plan.version, aliases: ['serving'] });
  state.setPhase('holding', `serving; the previous model${previous.length === 1 ? '' : 's'} undeployed after the hold`);
  await condition(() => !!state.newer, plan.keepPreviousMs);
  for (const id of previous) await undeployModel({ region: plan.region, endpoint: endpoint.name, deployedModelId: id });
  return end(plan, state, state.newer ? 'superseded' : 'done');
}

/** The golden set on an endpoint where the candidate is alone; the reason it failed, if it did. */
async function smoke(plan: RolloutPlan, state: RolloutState): Promise<string | undefined> {
  state.setPhase('smoke');
  const bench = await ensureEndpoint({ plan, displayName: `${plan.endpointDisplayName}-smoke` });
  state.deployStarted('smoke');
  const id = await deployVersion({ plan, endpoint: bench.name, split: { '0': 100 } });
  const result = await smokePredict({
    region: plan.region,
    endpoint: bench.name,
    instances: plan.smoke!.instances,
    expected: plan.smoke!.expected,
    tolerance: plan.smoke!.tolerance,
  });
  await undeployModel({ region: plan.region, endpoint: bench.name, deployedModelId: id });
  state.deployEnded('smoke');
  if (result.passed) return undefined;
  const first = result.mismatches[0]!;
  return `smoke prediction failed on ${result.mismatches.length} of ${plan.smoke!.instances.length} instances (instance ${first.index}: expected ${JSON.stringify(first.expected)}, got ${JSON.stringify(first.got)}); no traffic moved`;
}

type StepVerdict = Verdict | { kind: 'superseded'; reason: string };

/** Reads health every checkEvery for the step's watch; the step passes only on a healthy last read. */
async function watchStep(
  plan: RolloutPlan,
  state: RolloutState,
  candidate: string,
  previous: string[],
): Promise<StepVerdict> {
  const since = Date.now();
  let verdict: Verdict = { kind: 'unknown', reason: 'no health read yet' };
  while (Date.now() - since < plan.watchMs) {
    const next = Math.min(plan.checkMs, plan.watchMs - (Date.now() - since));
    if (await condition(() => !!state.newer, next))
      return { kind: 'superseded', reason: `superseded by version ${state.newer!.version}` };
    try {
      const health = await readHealth({
        project: plan.project,
        endpoint: state.status.endpoint!,
        candidate,
        previous,
        sinceMs: since,
      });
      state.setHealth(health);
      verdict = judge(plan.health, health);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      verdict = { kind: 'unknown', reason: `health could not be read: ${err.cause?.message ?? err.message}` };
    }
    if (verdict.kind === 'unhealthy') return verdict;
  }
  return verdict;
}

/** Restores the split from before the rollout and undeploys the candidate. */
async function rollBack(
  plan: RolloutPlan,
  state: RolloutState,
  reason: string,
  outcome: 'rolled-back' | 'superseded' = 'rolled-back',
): Promise<RolloutResult> {
  state.setPhase('rolling-back', reason);
  const endpoint = state.status.endpoint!;
  const now = await describeEndpoint({ region: plan.region, name: endpoint });
  const deployed = new Set(now.deployed.map((d) => d.id));
  const restore = restorable(state.status.splitBefore ?? {}, deployed);
  await setTrafficSplit({ region: plan.region, endpoint, split: restore });
  state.setSplit(restore);
  const candidate = state.status.candidateDeployedModelId;
  if (candidate && !(candidate in restore))
    await undeployModel({ region: plan.region, endpoint, deployedModelId: candidate });
  state.deployEnded('candidate');
  return end(plan, state, outcome, reason);
}

function end(
  plan: RolloutPlan,
  state: RolloutState,
  outcome: RolloutResult['outcome'],
  reason?: string,
): RolloutResult {
  state.status.cost = state.cost();
  state.setPhase(outcome, reason);
  rolloutsEnded.add(1, { pipeline: plan.pipeline, environment: plan.environment, outcome });
  return {
    outcome,
    version: plan.version,
    endpoint: state.status.endpoint ?? '',
    split: state.status.split,
    cost: state.status.cost,
    reason,
  };
}

/** The split from before, among the models still deployed, summing to 100 again if one is gone. */
function restorable(before: Record<string, number>, deployed: Set<string>): Record<string, number> {
  const kept = Object.entries(before).filter(([id]) => deployed.has(id));
  const total = kept.reduce((n, [, p]) => n + p, 0);
  if (!kept.length || total === 100) return Object.fromEntries(kept);
  const [largest, ...rest] = [...kept].sort((a, b) => b[1] - a[1]);
  return splitAt(Object.fromEntries(rest), largest![0], Math.round((largest![1] / total) * 100));
}
