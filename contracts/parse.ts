import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { INVALID_INPUT } from './failure-types';

export { INVALID_INPUT };

/** The caller's input is wrong: fail at once, with a message that names the field. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_INPUT, nonRetryable: true, message });
}

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

/**
 * An activity that checked the input against the config (unknown pipeline, a segment it does not
 * train, …) refused it: the run fails as InvalidInput with that reason on top, not as "activity
 * task failed", so the UI, the CLI and Airflow show what to fix.
 */
export function liftInvalidInput(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === INVALID_INPUT) {
    return ApplicationFailure.create({
      type: INVALID_INPUT,
      nonRetryable: true,
      message: err.cause.message,
      cause: err,
    });
  }
  return err;
}
