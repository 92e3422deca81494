import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';

export const INVALID_INPUT = 'InvalidInput';

/**
 * Parses an external payload (workflow input, signal or update argument) with its schema.
 *
 * Inside a workflow a plain Error would fail the workflow *task* and Temporal would retry it
 * forever; a non-retryable ApplicationFailure fails the run at once with the reason instead.
 * Clients call the same function so bad input is refused before anything is started.
 */
export function parsePayload<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw ApplicationFailure.create({
    type: INVALID_INPUT,
    nonRetryable: true,
    message: `invalid ${what}:\n${z.prettifyError(result.error)}`,
    details: [result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))],
  });
}
