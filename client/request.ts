import { z } from 'zod';
import { InvalidRunError } from '../config/runs';

// Every request the library takes (from the CLI, schedules, Airflow or code) is checked here before
// anything is started, so bad input is refused to the caller, naming the field, and never reaches
// a workflow.

export class TrainingRequestError extends Error {
  override name = 'TrainingRequestError';
}

/** `raw` parsed by `schema`, or a TrainingRequestError naming `what` and each bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid ${what}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** A request the config cannot serve becomes the caller's error; anything else is rethrown. */
export function refuse(err: unknown): never {
  if (err instanceof InvalidRunError) throw new TrainingRequestError(err.message);
  throw err;
}
