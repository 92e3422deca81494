import { defineUpdate } from '@temporalio/workflow';

// The create account every worker shares per project and region (workflows/vertex-create-account.ts,
// docs/vertex-quota.md): one exact per-minute log of Vertex creates, kept by a workflow so that the
// Temporal server, not a slice per worker, is where N workers meet.

export const vertexCreateAccountWorkflowType = 'vertexCreateAccount';

/**
 * One account per namespace, task queue, project and region. Per task queue, like the prediction
 * create queues (workflows/support/create-queue.ts): the account runs on the queue of the worker
 * that started it, and only that queue's workers are sure to be there to serve it.
 */
export const vertexCreateAccountId = (taskQueue: string, project: string, region: string) =>
  `vertex-create-account:${taskQueue}:${project}:${region}`;

/** What a run of the account hands the next (continue-as-new): the creates of the last minute. */
export interface VertexCreateAccountState {
  /** Workflow times (ms) at which creates went or will go, in order. */
  times: number[];
}

export interface ReserveCreateArgs {
  /** The quota this caller counts in (CT_VERTEX_CREATES_PER_MINUTE, lower after 429s). */
  perMinute: number;
  /** Longer than this is a refusal: nothing is taken. */
  maxWaitMs: number;
}

/** `waitMs`: how long after the answer the create may go; absent when refused. */
export interface ReserveCreateResult {
  waitMs?: number;
}

export const reserveCreateUpdate = defineUpdate<ReserveCreateResult, [ReserveCreateArgs]>('reserveCreate');
