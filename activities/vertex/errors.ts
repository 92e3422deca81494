import { ApplicationFailure } from '@temporalio/common';

// The Node Vertex clients retry none of these RPCs themselves (non_idempotent everywhere), so the
// activity decides: quota and availability problems are retried by Temporal with backoff; a
// request Vertex rejects fails fast with Vertex's own message, which says what to fix.

import { VERTEX_REJECTED, VERTEX_UNAVAILABLE } from '../../contracts/failure-types';

const RETRYABLE = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */,
]);
const codeNames: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function vertexFailure(err: unknown, what: string): ApplicationFailure {
  const code = grpcCode(err);
  const details =
    (err as { details?: string; message?: string } | undefined)?.details ??
    (err as Error | undefined)?.message ??
    String(err);
  const message = `${what}: Vertex AI answered ${code !== undefined ? (codeNames[code] ?? code) : 'an error'}: ${details}`;
  const retryable = code === undefined || RETRYABLE.has(code);
  return ApplicationFailure.create({
    type: retryable ? VERTEX_UNAVAILABLE : VERTEX_REJECTED,
    message,
    nonRetryable: !retryable,
    details: [{ code }],
  });
}

/**
 * Vertex's answer to a cancel of a job that already ended (FAILED_PRECONDITION) or is gone
 * (NOT_FOUND): nothing is left running, so for every cancel the job is as good as cancelled.
 */
export function nothingToCancel(err: unknown): boolean {
  const code = grpcCode(err);
  return code === 9 || code === 5;
}

/** Cancels a job on Vertex; a job that already ended or is gone counts as cancelled. */
export async function cancelVertexJob(name: string, cancel: (name: string) => Promise<unknown>): Promise<void> {
  try {
    await cancel(name);
  } catch (err) {
    if (nothingToCancel(err)) return;
    throw vertexFailure(err, `cancelling ${name}`);
  }
}
