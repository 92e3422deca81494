// Plans recorded before the plan held a run's job ids, outputs and console URLs: the workflow's
// fallback (workflows/support/legacy-plans.ts) must give such a run the job ids it submitted then, or a
// run open across the deploy would submit its next attempt under another id. Replay alone cannot
// tell (activity inputs are not compared), so this reads what the committed histories recorded.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { RunPlan, TrainingRunResult } from '../../contracts';
import { attemptOf, modelConsoleUrl } from '../../workflows/support/legacy-plans';
import { loadSavedHistories } from '../helpers/histories';

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
const decode = <T>(p: Payloads) => defaultPayloadConverter.fromPayload<T>(p!.payloads![0]!);

const recorded = loadSavedHistories()
  .filter((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name === 'trainingRun')
  .map((h) => {
    const events = h.history.events!;
    const runId = events[0]!.workflowExecutionStartedEventAttributes!.originalExecutionRunId!;
    const scheduled = new Map<string, temporal.api.history.v1.IActivityTaskScheduledEventAttributes>();
    let plan: RunPlan | undefined;
    const submits: { attempt: number; jobId: string }[] = [];
    let result: TrainingRunResult | undefined;
    for (const e of events) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s);
      if (s?.activityType?.name === 'submitTrainingJob') submits.push(decode(s.input));
      const c = e.activityTaskCompletedEventAttributes;
      if (c && scheduled.get(String(c.scheduledEventId))?.activityType?.name === 'resolveTrainingRun')
        plan = decode(c.result);
      const done = e.workflowExecutionCompletedEventAttributes;
      if (done) result = decode(done.result);
    }
    return { name: h.name, runId, plan: plan!, submits, result };
  });

// Keep such a history when refreshing the others: it is what proves the fallback.
test('a committed history holds a plan without job ids (the case the fallback is for)', () => {
  expect(recorded.filter((r) => r.plan.attempts === undefined).map((r) => r.name)).not.toEqual([]);
  expect(recorded.filter((r) => r.result?.model).length).toBeGreaterThan(0);
});

test.each(recorded.map((r) => [r.name, r] as const))(
  '%s: the fallback gives the job ids, outputs and console URL the run recorded',
  (_name, r) => {
    expect(r.submits.length).toBeGreaterThan(0);
    for (const s of r.submits) expect(attemptOf(r.plan, r.runId, s.attempt).jobId).toBe(s.jobId);
    if (r.result?.outputs) expect(attemptOf(r.plan, r.runId, r.result.attempts).outputs).toEqual(r.result.outputs);
    if (r.result?.model && r.plan.model)
      expect(modelConsoleUrl({ ...r.plan, model: r.plan.model }, { versionId: r.result.model.version })).toBe(
        r.result.model.consoleUrl,
      );
  },
);
