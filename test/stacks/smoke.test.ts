// Proves the stack is real: a real worker on the Temporal dev server runs stackCheck, whose
// activities write and read through @google-cloud/storage against fake-gcs-server; the run is
// signalled and cancelled from a Temporal client and the outcome is checked in its history.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { INVALID_INPUT, releaseSignal, statusQuery, type StackCheckInput } from '../../contracts';
import type { stackCheck } from '../../workflows';
import { GCS_NOT_FOUND } from '../../contracts';
import { maybeSaveHistory } from '../helpers/histories';
import { uniqueId, withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { testStack } from '../setup/test-stack';

const { EventType } = temporal.api.enums.v1;

function startCheck(ctx: WorkerContext, input: StackCheckInput, workflowId = uniqueId('stack-check')) {
  return ctx.client.workflow.start<typeof stackCheck>('stackCheck', {
    taskQueue: ctx.taskQueue,
    workflowId,
    args: [input],
  });
}

async function eventTypes(handle: WorkflowHandle): Promise<temporal.api.enums.v1.EventType[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => e.eventType!);
}

async function waitForHolding(handle: WorkflowHandle<typeof stackCheck>): Promise<string> {
  return eventually(async () => {
    const status = await handle.query(statusQuery);
    return status.phase === 'holding' ? status.objectUri : undefined;
  });
}

function objectOf(uri: string) {
  const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  return { bucket: bucket!, object: object! };
}

test('a signalled run writes and reads its probe through GCS, then cleans up', async () => {
  await withWorker(async (ctx) => {
    const handle = await startCheck(
      ctx,
      { bucket: testStack().CT_TEST_GCS_BUCKET, holdSeconds: 600 },
      'stack-check-signalled',
    );
    const uri = await waitForHolding(handle);

    // While held, the probe is really in fake-gcs-server, with what the workflow wrote.
    const { bucket, object } = objectOf(uri);
    const [content] = await ctx.storage.bucket(bucket).file(object).download();
    expect(content.toString()).toContain(`stack check by ${handle.workflowId}`);

    await handle.signal(releaseSignal, { by: 'smoke-test' });
    const result = await handle.result();
    expect(result).toEqual({ objectUri: uri, bytes: content.length, releasedBy: 'smoke-test' });

    const [exists] = await ctx.storage.bucket(bucket).file(object).exists();
    expect(exists).toBe(false);
    const events = await eventTypes(handle);
    expect(events).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(events.filter((e) => e === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)).toHaveLength(3);
    expect(events.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    await maybeSaveHistory(handle, 'stack-check-signalled');
  });
});

test('a cancelled run ends Cancelled after deleting its probe', async () => {
  await withWorker(async (ctx) => {
    const handle = await startCheck(
      ctx,
      { bucket: testStack().CT_TEST_GCS_BUCKET, holdSeconds: 600 },
      uniqueId('stack-check-cancel'),
    );
    const uri = await waitForHolding(handle);
    await handle.cancel();

    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    const events = await eventTypes(handle);
    const requested = events.indexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
    const lastActivityDone = events.lastIndexOf(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect(requested).toBeGreaterThan(0);
    expect(lastActivityDone).toBeGreaterThan(requested); // the cleanup ran after the cancel
    expect(events.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    const { bucket, object } = objectOf(uri);
    const [exists] = await ctx.storage.bucket(bucket).file(object).exists();
    expect(exists).toBe(false);
  });
});

test('bad input fails the run at once with the reason, never a workflow task retried forever', async () => {
  await withWorker(async (ctx) => {
    const handle = await startCheck(ctx, { bucket: 'Not A Bucket', holdSeconds: -1 });
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = err.cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(INVALID_INPUT);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(/bucket/);
    expect(cause.message).toMatch(/holdSeconds/);
    const events = await eventTypes(handle);
    expect(events).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    expect(events).not.toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  });
});

test('a bucket that does not exist fails once, non-retryable, naming the object', async () => {
  await withWorker(async (ctx) => {
    const handle = await startCheck(ctx, { bucket: uniqueId('no-such-bucket') });
    const err = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    const activityFailure = err.cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    const cause = activityFailure.cause as ApplicationFailure;
    expect(cause.type).toBe(GCS_NOT_FOUND);
    expect(cause.message).toMatch(/^gs:\/\/no-such-bucket-[^/]+\/.+ does not exist/);
    const history = await handle.fetchHistory();
    const started = history.events?.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  });
});
