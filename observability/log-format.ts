// How every log line of the worker (and ct) is written: one JSON object per line, or a readable
// line on a terminal. The run's context comes first, in a fixed order; what may hold secrets or
// whole payloads (credentials, tokens, parameter values, workflow and activity arguments) is
// replaced before it is written. No SDK import here: ct uses it without loading the worker.

export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export const levels: readonly Level[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** The run's context, in the order a reader looks for it. */
export const contextKeys = [
  'workflowId',
  'runId',
  'workflowType',
  'activityType',
  'attempt',
  'pipeline',
  'environment',
  'segment',
  'partition',
  'vertexJob',
] as const;

const secret = /pass(word)?|secret|token|api[-_]?key|credential|authorization|private[-_]?key|cookie/i;
const payload = /^(parameterValues|parameters|args|arguments|input|payloads?|headers|memo)$/;
const maxString = 2000;

function clean(value: unknown, depth: number): unknown {
  if (value instanceof Error)
    return { name: value.name, message: value.message, ...(value.stack && { stack: value.stack }) };
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return value.length > maxString ? `${value.slice(0, maxString)}…` : value;
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 4) return '[nested]';
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => clean(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      secret.test(k) ? '[redacted]' : payload.test(k) ? '[omitted]' : clean(v, depth + 1),
    ]),
  );
}

export interface Entry {
  time: Date;
  level: Level;
  message: string;
  meta?: Record<string, unknown>;
}

/** The fields of a line: time, level, message, the run's context, then the rest. */
export function fields(e: Entry): Record<string, unknown> {
  const meta = (clean(e.meta ?? {}, 0) ?? {}) as Record<string, unknown>;
  // The SDK calls the run id workflowRunId in activity lines and runId in workflow lines: one name here.
  if (meta.runId === undefined && meta.workflowRunId !== undefined) {
    meta.runId = meta.workflowRunId;
    delete meta.workflowRunId;
  }
  const ordered: Record<string, unknown> = { time: e.time.toISOString(), level: e.level, message: e.message };
  for (const k of contextKeys) if (meta[k] !== undefined) ordered[k] = meta[k];
  for (const [k, v] of Object.entries(meta)) if (!(k in ordered) && v !== undefined) ordered[k] = v;
  return ordered;
}

export const formatJson = (e: Entry): string => JSON.stringify(fields(e));

/** For a person at a terminal (npm run dev): time, level, message, then key=value. */
export function formatPretty(e: Entry): string {
  const { time, level, message, ...rest } = fields(e);
  const kv = Object.entries(rest)
    .filter(([k]) => k !== 'sdkComponent' && k !== 'namespace' && k !== 'taskQueue')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(time).slice(11, 23)} ${String(level).padEnd(5)} ${String(message)}${kv ? `  ${kv}` : ''}`;
}
