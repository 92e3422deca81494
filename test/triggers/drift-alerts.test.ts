// Drift and quality alerts as retrain requests, end to end: Cloud Monitoring's documented webhook
// notification (schema 1.2) posted to `ct alerts serve` running as a process, the retrain started
// on the test server under the window's canonical id, the incident on the run, and `ct alerts runs`.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { startAlertReceiver } from '../../client/alerts/receiver';
import { searchAttributes as sa, trainingRunId, trainingRunWorkflowType, trainingStatusQuery } from '../../contracts';
import { documentedIncident, postIncident, startReceiverProcess, type ReceiverProcess } from '../helpers/alerts';
import { eventually } from '../helpers/eventually';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, dailyData, onQueue, projectWith } from '../helpers/pipelines';
import { connectTestClient, uniqueId, withWorker } from '../helpers/temporal';
import { makeTestCerts } from '../helpers/tls-certs';
import { testStack } from '../setup/test-stack';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..');
const QUEUE = uniqueId('alerts');
const TOKEN = randomBytes(24).toString('hex');
const iso = projectWith({
  // Per segment, taking alerts: an incident's window is the UTC day it started in.
  drift: {
    environments: { staging: onQueue(QUEUE) },
    data: dailyData(['drift_features']),
    training: customJobTraining,
    segments: { countries: ['JP', 'US'], sns: ['instagram'] },
    retrainOnAlert: {},
  },
  // Alerts in staging only; a window is the Tokyo day before the one the incident started in, and
  // its run starts without waiting for data.
  tokyo: {
    environments: { staging: onQueue(QUEUE), other: onQueue(QUEUE) },
    data: dailyData(['tokyo_features']),
    training: customJobTraining,
    retrainOnAlert: {
      partition: { offset: -1, timezone: 'Asia/Tokyo' },
      assumeDataReady: true,
      environments: ['staging'],
    },
  },
  // Takes no alerts.
  quiet: {
    environments: { staging: onQueue(QUEUE) },
    data: dailyData(['quiet_features']),
    training: customJobTraining,
  },
});

let receiver: ReceiverProcess;
let client: Client;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ client, close } = await connectTestClient());
  receiver = await startReceiverProcess(iso.configPath, { CT_ALERTS_TOKEN: TOKEN });
});
afterAll(async () => {
  await receiver?.stop();
  // Whatever a test left running on this suite's queue.
  for await (const w of client.workflow.list({ query: `TaskQueue = "${QUEUE}" AND ExecutionStatus = "Running"` }))
    await client.workflow
      .getHandle(w.workflowId)
      .terminate('test over')
      .catch(() => undefined);
  await close();
  await iso.cleanup();
});

const labels = { ct_pipeline: 'drift', ct_segment: 'jp-instagram', ct_environment: 'staging' };
/** Noon UTC of a partition no other test uses: the incident's start, in Unix seconds. */
const windowOf = (partition: string) => Date.parse(`${partition}T12:00:00Z`) / 1000;
const incidentId = () => `0.${randomBytes(6).toString('hex')}`;
const runOf = (partition: string, segment = 'jp-instagram') =>
  trainingRunId({ environment: 'staging', pipeline: 'drift', segment, partition });

/** Every execution (open or closed) ever under `workflowId`, once visibility shows at least `atLeast`. */
async function executions(workflowId: string, atLeast = 1) {
  return eventually(async () => {
    const found = [];
    for await (const w of client.workflow.list({
      query: `WorkflowType = "${trainingRunWorkflowType}" AND WorkflowId = "${workflowId}"`,
    }))
      found.push(w);
    return found.length >= atLeast ? found : undefined;
  });
}

async function notStarted(workflowId: string): Promise<void> {
  await expect(client.workflow.getHandle(workflowId).describe()).rejects.toThrow(WorkflowNotFoundError);
}

/** `ct` as a person or script runs it, against the test server. */
function ct(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ct.cjs'), '--config', iso.configPath, ...args], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: testStack().CT_TEST_TEMPORAL_ADDRESS, CT_LOG_FORMAT: 'pretty' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test("the documentation's incident open, closed, re-opened and repeated, and a second incident in its window: one run, started by the first, with its id; ct alerts runs shows it", async () => {
  await withWorker(
    async () => {
      const partition = uniquePartition('daily');
      const id = incidentId();
      const open = documentedIncident({ id, state: 'open', startedAt: windowOf(partition), labels });
      const closed = documentedIncident({ id, state: 'closed', startedAt: windowOf(partition), labels });

      // Opened: the retrain of its window starts (basic auth, as a webhook_basicauth channel sends it).
      const first = await postIncident(receiver.url, open, { basic: TOKEN });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        outcome: 'started',
        incidentId: id,
        state: 'open',
        pipeline: 'drift',
        segment: 'jp-instagram',
        environment: 'staging',
        partition,
        workflowId: runOf(partition),
      });
      // Closed (the token in the URL, as a webhook_tokenauth channel sends it): nothing more.
      const ended = await postIncident(receiver.url, closed, { urlToken: TOKEN });
      expect(ended.status).toBe(200);
      expect(ended.body).toMatchObject({ outcome: 'ignored', workflowId: runOf(partition) });
      // Re-opened, then the same notification three times at once (re-notifications, retries).
      const reopened = await postIncident(receiver.url, open, { bearer: TOKEN });
      expect(reopened.body).toMatchObject({ outcome: 'attached', workflowId: runOf(partition) });
      const repeats = await Promise.all([1, 2, 3].map(() => postIncident(receiver.url, open, { basic: TOKEN })));
      expect(repeats.map((r) => [r.status, r.body.outcome])).toEqual([
        [200, 'attached'],
        [200, 'attached'],
        [200, 'attached'],
      ]);
      // Another incident of another policy, later the same day: the same window, the same run.
      const second = incidentId();
      const later = documentedIncident({
        id: second,
        state: 'open',
        startedAt: windowOf(partition) + 3 * 3600,
        labels,
        policy: 'Engagement prediction quality',
      });
      expect((await postIncident(receiver.url, later, { basic: TOKEN })).body).toMatchObject({
        outcome: 'attached',
        workflowId: runOf(partition),
      });

      // One execution under the window's id, none for the other segment; the first incident on it.
      const [run] = await executions(runOf(partition));
      expect(await executions(runOf(partition))).toHaveLength(1);
      await notStarted(runOf(partition, 'us-instagram'));
      const described = await client.workflow.getHandle(runOf(partition)).describe();
      expect(described.typedSearchAttributes.get(sa.alertIncidents)).toEqual([id]);
      const memo = described.memo?.alertIncident as Record<string, string>;
      expect(memo).toMatchObject({
        incidentId: id,
        policy: 'Engagement model drift',
        startedAt: `${partition}T12:00:00.000Z`,
      });
      expect(memo.url).toContain(id);
      expect(run!.runId).toBe(described.runId);
      // The run is a run like any other: it waits for its data.
      await eventually(async () => {
        const s = await client.workflow.getHandle(runOf(partition)).query(trainingStatusQuery);
        return s.phase === 'waiting-for-data' ? s : undefined;
      });

      // ct shows which runs an incident started: the first's, and none for the second.
      const shown = await eventually(async () => {
        const out = await ct('--json', 'alerts', 'runs', '--incident', id, '--env', 'staging');
        const runs = JSON.parse(out.stdout) as { workflowId: string; alert?: { incidentId?: string } }[];
        return out.code === 0 && runs.length ? runs : undefined;
      }, 30_000);
      expect(shown.map((r) => [r.workflowId, r.alert?.incidentId])).toEqual([[runOf(partition), id]]);
      const human = await ct('alerts', 'runs', '--incident', id, '--env', 'staging');
      expect(human.stdout).toMatch(
        new RegExp(`^${runOf(partition)}  running · waiting-for-data  .*policy "Engagement model drift"`),
      );
      const none = await ct('alerts', 'runs', '--incident', second, '--env', 'staging');
      expect(none).toMatchObject({ code: 0, stdout: `incident ${second} started no run\n` });
    },
    { taskQueue: QUEUE, project: iso },
  );
});

test('a closed incident never starts a retrain, even as the first word about it', async () => {
  const partition = uniquePartition('daily');
  const id = incidentId();
  const closed = documentedIncident({ id, state: 'closed', startedAt: windowOf(partition), labels });
  const res = await postIncident(receiver.url, closed, { basic: TOKEN });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ outcome: 'ignored', reason: 'a closed incident never starts a retrain' });
  await notStarted(runOf(partition));
  expect(await ct('alerts', 'runs', '--incident', id, '--env', 'staging')).toMatchObject({
    code: 0,
    stdout: `incident ${id} started no run\n`,
  });
});

test('refused with a clear status and reason, and nothing started: no or a wrong token, too big, wrong method or path, bad JSON, a missing field, labels that name no run', async () => {
  const partition = uniquePartition('daily');
  const open = (over: Record<string, string> = labels) =>
    documentedIncident({ id: incidentId(), state: 'open', startedAt: windowOf(partition), labels: over });

  const noToken = await postIncident(receiver.url, open(), 'none');
  expect(noToken.status).toBe(401);
  expect(noToken.headers.get('www-authenticate')).toMatch(/^Basic realm="ct-alerts"/);
  expect(noToken.body.error).toMatch(/^no token: use basic auth with the token as the password, \?token=/);
  for (const wrong of [{ basic: `${TOKEN}x` }, { urlToken: TOKEN.slice(1) }, { bearer: 'not-the-token-at-all' }]) {
    const res = await postIncident(receiver.url, open(), wrong);
    expect([res.status, res.body.error]).toEqual([
      401,
      expect.stringMatching(/^the token \(.+\) is not this receiver's$/),
    ]);
  }

  const huge = await postIncident(receiver.url, { ...open(), padding: 'x'.repeat(300 * 1024) }, { basic: TOKEN });
  expect([huge.status, huge.body.error]).toEqual([413, 'the body is over 262144 bytes']);
  const get = await fetch(`${receiver.url}?token=${TOKEN}`);
  expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
  const elsewhere = await postIncident(receiver.url.replace('/incidents', '/alerts'), open(), { basic: TOKEN });
  expect(elsewhere.status).toBe(404);
  expect((await fetch(receiver.url.replace('/incidents', '/healthz'))).status).toBe(200);

  const notJson = await postIncident(receiver.url, '{"incident": {', { basic: TOKEN });
  expect(notJson.status).toBe(400);
  expect(notJson.body.error).toMatch(/^the body is not JSON: /);

  const body = open();
  const { incident_id: _, ...withoutId } = body.incident;
  const missing = await postIncident(receiver.url, { ...body, incident: withoutId }, { basic: TOKEN });
  expect(missing.status).toBe(400);
  expect(missing.body.error).toMatch(
    /^not a Cloud Monitoring incident notification \(schema 1\.2\): incident\.incident_id: /,
  );
  expect(missing.body.fields).toEqual(['incident.incident_id']);
  const badState = await postIncident(
    receiver.url,
    { ...body, incident: { ...body.incident, state: 'sleeping', started_at: 'yesterday' } },
    { basic: TOKEN },
  );
  expect(badState.status).toBe(400);
  expect(badState.body.fields).toEqual(['incident.state', 'incident.started_at']);
  const oldSchema = await postIncident(receiver.url, { ...body, version: '1.1' }, { basic: TOKEN });
  expect([oldSchema.status, oldSchema.body.fields]).toEqual([400, ['version']]);

  // Labels the config has no run for: 422, naming the label and what the config has.
  const unknownPipeline = await postIncident(receiver.url, open({ ...labels, ct_pipeline: 'nope' }), { basic: TOKEN });
  expect(unknownPipeline.status).toBe(422);
  expect(unknownPipeline.body.error).toBe(
    'ct_pipeline: unknown pipeline "nope"; pipelines that take alerts: drift, tokyo',
  );
  const notTaking = await postIncident(receiver.url, open({ ...labels, ct_pipeline: 'quiet' }), { basic: TOKEN });
  expect([notTaking.status, notTaking.body.error]).toEqual([
    422,
    'ct_pipeline: pipeline quiet takes no retrain requests from alerts (no retrainOnAlert: section); pipelines that do: drift, tokyo',
  ]);
  const unknownSegment = await postIncident(receiver.url, open({ ...labels, ct_segment: 'br-instagram' }), {
    basic: TOKEN,
  });
  expect(unknownSegment.status).toBe(422);
  expect(unknownSegment.body.error).toMatch(
    /name no run: segment "br-instagram" is not trained by drift; its segments: jp-instagram, us-instagram$/,
  );
  const { ct_segment: _s, ...withoutSegment } = labels;
  const noSegment = await postIncident(receiver.url, open(withoutSegment), { basic: TOKEN });
  expect([noSegment.status, noSegment.body.error]).toEqual([
    422,
    expect.stringMatching(
      /ct_segment=-.*name no run: pipeline drift trains per segment: give one of jp-instagram, us-instagram$/,
    ),
  ]);
  const unknownEnv = await postIncident(receiver.url, open({ ...labels, ct_environment: 'prod' }), { basic: TOKEN });
  expect([unknownEnv.status, unknownEnv.body.error]).toEqual([
    422,
    expect.stringMatching(/name no run: pipeline drift has no environment "prod"; it has: staging$/),
  ]);

  // Not one of them started anything: the window's runs do not exist, nor any run of its partition.
  await notStarted(runOf(partition));
  await notStarted(runOf(partition, 'us-instagram'));
  const ofPartition = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = "${QUEUE}"` }))
    if (w.workflowId.endsWith(`:${partition}`)) ofPartition.push(w.workflowId);
  expect(ofPartition).toEqual([]);
  expect(receiver.output()).toMatch(/ct alerts: POST \/incidents refused 401: no token/);
});

test("the window is the partition holding the incident's start in the configured zone, moved by the offset; the labels come from the policy, then the incident, then the metric", async () => {
  const at = (iso: string, over: Record<string, string>, more: Record<string, unknown> = {}) => {
    const body = documentedIncident({
      id: incidentId(),
      state: 'closed',
      startedAt: Date.parse(iso) / 1000,
      labels: over,
    });
    return { ...body, incident: { ...body.incident, ...more } };
  };
  const tokyo = { ct_pipeline: 'tokyo', ct_environment: 'staging' };
  const answer = async (body: unknown) => (await postIncident(receiver.url, body, { basic: TOKEN })).body;
  // 15:00 UTC is midnight in Tokyo: the 22nd there, so the day before is the 21st; a second earlier, the 20th.
  expect(await answer(at('2031-11-21T15:00:00Z', tokyo))).toMatchObject({
    outcome: 'ignored',
    partition: '2031-11-21',
  });
  expect(await answer(at('2031-11-21T14:59:59Z', tokyo))).toMatchObject({ partition: '2031-11-20' });

  // The segment from the incident's own labels, or the metric's; the policy's label wins over both.
  const { ct_segment: _, ...noSegment } = labels;
  const metric = (segment: string) => ({ metric: { type: 'custom', labels: { ct_segment: segment } } });
  const incidentLabels = (segment: string) => ({ metadata: { user_labels: { ct_segment: segment } } });
  expect(await answer(at('2031-11-21T10:00:00Z', noSegment, metric('us-instagram')))).toMatchObject({
    segment: 'us-instagram',
  });
  expect(
    await answer(
      at('2031-11-21T10:00:00Z', noSegment, { ...metric('us-instagram'), ...incidentLabels('jp-instagram') }),
    ),
  ).toMatchObject({ segment: 'jp-instagram' });
  expect(await answer(at('2031-11-21T10:00:00Z', labels, incidentLabels('us-instagram')))).toMatchObject({
    segment: 'jp-instagram',
  });

  // No pipeline label, no environment (the receiver has no default), an environment that takes no alerts.
  const refusal = async (body: unknown) => {
    const res = await postIncident(receiver.url, body, { basic: TOKEN });
    return [res.status, res.body.error];
  };
  expect(await refusal(at('2031-11-21T10:00:00Z', { ct_environment: 'staging' }))).toEqual([
    422,
    'ct_pipeline: the alerting policy names no pipeline (a user label ct_pipeline on the policy, the incident or the metric); pipelines that take alerts: drift, tokyo',
  ]);
  expect(await refusal(at('2031-11-21T10:00:00Z', { ct_pipeline: 'tokyo' }))).toEqual([
    422,
    expect.stringMatching(
      /^ct_environment: .* name no environment and the receiver has no CT_ALERTS_ENVIRONMENT; tokyo has staging, other$/,
    ),
  ]);
  expect(await refusal(at('2031-11-21T10:00:00Z', { ...tokyo, ct_environment: 'other' }))).toEqual([
    422,
    'ct_environment: pipeline tokyo takes retrain requests from alerts in staging, not "other"',
  ]);

  // Opened, the window's run starts as the config says: without waiting for data.
  const partition = uniquePartition('daily');
  const started = await postIncident(
    receiver.url,
    documentedIncident({
      id: incidentId(),
      state: 'open',
      startedAt: Date.parse(`${partition}T20:00:00Z`) / 1000,
      labels: tokyo,
    }),
    { basic: TOKEN },
  );
  expect(started.body).toMatchObject({ outcome: 'started', partition });
  const { events } = await client.workflow.getHandle(String(started.body.workflowId)).fetchHistory();
  const input = defaultPayloadConverter.fromPayload(
    events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!,
  );
  expect(input).toEqual({ pipeline: 'tokyo', environment: 'staging', partition, assumeDataReady: true });
});

test('the receiver never runs open: without a token it refuses to start, naming the variables', async () => {
  const out = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'bin', 'ct.cjs'), '--config', iso.configPath, 'alerts', 'serve'],
      {
        cwd: root,
        env: { ...process.env, CT_ALERTS_TOKEN: '', CT_ALERTS_ADDRESS: '127.0.0.1:0', CT_LOG_FORMAT: 'pretty' },
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // A receiver that started after all is stopped (its process group), so the failure leaves nothing behind.
    const serving = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(serving);
      resolve({ code, output });
    });
  });
  expect(out.code).toBe(1);
  expect(out.output).toMatch(/CT_ALERTS_TOKEN: give the token in CT_ALERTS_TOKEN or CT_ALERTS_TOKEN_FILE/);
});

test('with certificate files the receiver speaks HTTPS only', async () => {
  const certs = makeTestCerts();
  const https = await startAlertReceiver({
    config: iso.config,
    clientFor: () => client,
    settings: {
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      environment: undefined,
      tls: { cert: readFileSync(certs.serverCert, 'utf8'), key: readFileSync(certs.serverKey, 'utf8') },
    },
  });
  try {
    expect(https.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/incidents$/);
    const partition = uniquePartition('daily');
    const closed = JSON.stringify(
      documentedIncident({ id: incidentId(), state: 'closed', startedAt: windowOf(partition), labels }),
    );
    const answer = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = request(
        https.url,
        {
          method: 'POST',
          ca: readFileSync(certs.caCert),
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body }));
        },
      );
      req.on('error', reject);
      req.end(closed);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ outcome: 'ignored', partition });
    // Plain HTTP to the TLS port is not served.
    await expect(postIncident(https.url.replace('https:', 'http:'), closed, { bearer: TOKEN })).rejects.toThrow();
  } finally {
    await https.close();
  }
});
