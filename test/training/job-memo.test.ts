// A training run keeps its current Vertex job in its memo (workflows/support/training-run-state.ts),
// which the server holds: `ct status` names the job even when no worker answers the run's status
// query (every worker down, a deploy gone wrong), so an operator can still find or cancel it.
import { runStatus } from '../../client/runs';
import { startTrainingRun } from '../../client/training';
import { trainingStatusQuery, vertexJobMemoKey } from '../../contracts';
import { eventually } from '../helpers/eventually';
import { maybeSaveHistory } from '../helpers/histories';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { connectTestClient, uniqueId, withWorker } from '../helpers/temporal';
import { emulatorControl } from '../helpers/vertex';

jest.setTimeout(120_000);
const control = emulatorControl();

let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith({
    churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
  });
});
afterEach(() => iso.cleanup());

test('the memo names the current attempt’s job, one upsert per attempt; ct status reads it when no worker answers', async () => {
  const partition = uniquePartition('monthly');
  const taskQueue = uniqueId('tq-memo');
  // The first attempt's job fails; the second runs until the worker is gone and back.
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-partition': partition } },
    script: { outcome: 'FAILED', error: { code: 13, message: 'injected' } },
    times: 1,
  });
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-partition': partition } },
    script: { runningMs: 15_000 },
  });
  const started = await withWorker(
    async (ctx) => {
      const handle = await startTrainingRun(
        ctx.client,
        iso.config,
        { pipeline: 'churn', environment: 'staging', partition, assumeDataReady: true },
        { taskQueue },
      );
      const status = await eventually(async () => {
        const s = await handle.query(trainingStatusQuery);
        return s.job?.attempt === 2 && s.phase === 'running' ? s : undefined;
      }, 60_000);
      const memo = (await handle.describe()).memo?.[vertexJobMemoKey];
      expect(memo).toEqual({
        kind: 'customJob',
        name: status.job!.name,
        attempt: 2,
        consoleUrl: status.job!.consoleUrl,
      });
      return { workflowId: handle.workflowId, job: status.job! };
    },
    { taskQueue, project: iso },
  );

  // No worker polls the run's task queue now: the query goes unanswered, the memo does not.
  const { client, close } = await connectTestClient();
  try {
    const s = await runStatus(client, started.workflowId);
    expect(s.status).toBe('RUNNING');
    expect(s.detail).toBeUndefined();
    expect(s.vertexJob).toEqual({
      kind: 'customJob',
      name: started.job.name,
      attempt: 2,
      consoleUrl: started.job.consoleUrl,
    });
  } finally {
    await close();
  }

  await withWorker(
    async (ctx) => {
      const handle = ctx.client.workflow.getHandle(started.workflowId);
      const result = (await handle.result()) as { status: string; attempts: number };
      expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
      await maybeSaveHistory(handle, 'training-run-job-memo');
      const events = (await handle.fetchHistory()).events ?? [];
      // One memo upsert per attempt, behind the patch's marker.
      expect(events.filter((e) => e.workflowPropertiesModifiedEventAttributes)).toHaveLength(2);
      expect(
        events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
      ).toBeGreaterThanOrEqual(1);
    },
    { taskQueue, project: iso },
  );
});
