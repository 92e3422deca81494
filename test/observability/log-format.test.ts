// The log line format itself: one line per entry whatever the message holds, the run's context
// first, and nothing that may be a secret or a payload.
import { formatJson, formatPretty } from '../../observability/log-format';

const entry = {
  time: new Date('2026-11-30T12:00:00.000Z'),
  level: 'WARN' as const,
  message: 'creating the job failed:\nline two',
  meta: {
    extra: 1,
    vertexJob: 'projects/1/locations/us-central1/customJobs/2',
    workflowRunId: 'run-1',
    workflowId: 'training:staging:churn:all:2026-11',
    pipeline: 'churn',
    taskToken: new Uint8Array([1, 2, 3]),
    credentials: { private_key: '-----BEGIN PRIVATE KEY-----' },
    request: { parameterValues: { learning_rate: 0.1 }, apiKey: 'k', name: 'ok' },
    error: new Error('boom'),
  },
};

test('one JSON object on one line: time, level, message, then the run context in order, then the rest', () => {
  const line = formatJson(entry);
  expect(line).not.toContain('\n');
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual([
    'time',
    'level',
    'message',
    'workflowId',
    'runId',
    'pipeline',
    'vertexJob',
    'extra',
    'taskToken',
    'credentials',
    'request',
    'error',
  ]);
  expect(parsed).toMatchObject({ time: '2026-11-30T12:00:00.000Z', level: 'WARN', runId: 'run-1' });
  expect(parsed.error).toMatchObject({ name: 'Error', message: 'boom' });
});

test('secrets are redacted and payloads omitted, at any depth', () => {
  const line = formatJson(entry);
  for (const leaked of ['PRIVATE KEY', 'learning_rate', '"k"']) expect(line).not.toContain(leaked);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(parsed.taskToken).toBe('[redacted]');
  expect(parsed.credentials).toBe('[redacted]');
  expect(parsed.request).toEqual({ parameterValues: '[omitted]', apiKey: '[redacted]', name: 'ok' });
});

test('the readable form is one line per entry too, for npm run dev', () => {
  const line = formatPretty({ ...entry, message: 'run ended' });
  expect(line).toMatch(
    /^12:00:00\.000 WARN {2}run ended {2}workflowId=training:staging:churn:all:2026-11 runId=run-1 /,
  );
  expect(line).not.toContain('\n');
});
