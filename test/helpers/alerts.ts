import { spawn } from 'node:child_process';
import path from 'node:path';
import { testStack } from '../setup/test-stack';
import { eventually } from './eventually';

// Drift and quality alerts as Cloud Monitoring delivers them: the webhook's documented incident
// (schema 1.2), the ways a webhook channel authenticates, and `ct alerts serve` as a process.

const root = path.join(__dirname, '..', '..');

export interface IncidentSpec {
  id: string;
  state: 'open' | 'closed';
  /** When the condition was first met, in Unix seconds (the window it asks a retrain for). */
  startedAt: number;
  /** The alerting policy's user labels (ct_pipeline, ct_segment, ct_environment). */
  labels: Record<string, string>;
  policy?: string;
}

/**
 * A notification with every field of the documented schema-1.2 example (Google's "Create and
 * manage notification channels", Webhooks), its values those of a drift alert on a model's
 * monitoring: a closed incident has its end time and a summary saying it returned to normal.
 */
export function documentedIncident(s: IncidentSpec) {
  const project = 'ct-staging-4711';
  const policyId = '4411223344556677889';
  const closed = s.state === 'closed';
  return {
    incident: {
      incident_id: s.id,
      scoping_project_id: project,
      scoping_project_number: 123456789012,
      url: `https://console.cloud.google.com/monitoring/alerting/incidents/${s.id}?project=${project}`,
      started_at: s.startedAt,
      ended_at: closed ? s.startedAt + 5_400 : null,
      state: s.state,
      resource_id: '',
      resource_name: `${project} engagement-endpoint`,
      resource_display_name: 'engagement-endpoint',
      resource_type_display_name: 'Vertex AI Endpoint',
      resource: {
        type: 'aiplatform.googleapis.com/Endpoint',
        labels: { resource_container: project, location: 'us-central1', endpoint_id: '1234567890' },
      },
      metric: {
        type: 'logging.googleapis.com/user/model_monitoring_anomalies',
        displayName: 'Model monitoring anomalies',
        labels: { objective: 'raw-feature-drift' },
      },
      metadata: { system_labels: {}, user_labels: {} },
      policy_name: s.policy ?? 'Engagement model drift',
      policy_user_labels: s.labels,
      condition_name: 'Feature drift above threshold',
      threshold_value: '0.3',
      observed_value: closed ? '0.12' : '0.41',
      condition: {
        name: `projects/${project}/alertPolicies/${policyId}/conditions/1`,
        displayName: 'Feature drift above threshold',
        conditionThreshold: {
          filter:
            'metric.type="logging.googleapis.com/user/model_monitoring_anomalies" resource.type="aiplatform.googleapis.com/Endpoint"',
          aggregations: [{ alignmentPeriod: '300s', perSeriesAligner: 'ALIGN_MAX' }],
          comparison: 'COMPARISON_GT',
          thresholdValue: 0.3,
          duration: '0s',
          trigger: { count: 1 },
        },
      },
      documentation: {
        content: 'Feature drift on the engagement model: a retrain is asked for.',
        mime_type: 'text/markdown',
      },
      summary: closed
        ? 'Model monitoring anomalies for engagement-endpoint returned to normal with a value of 0.12.'
        : 'Model monitoring anomalies for engagement-endpoint is above the threshold of 0.3 with a value of 0.41.',
    },
    version: '1.2',
  };
}

/** How a request authenticates: as a webhook_basicauth or webhook_tokenauth channel would, or a Bearer token. */
export type AlertAuth = { basic: string } | { urlToken: string } | { bearer: string } | 'none';

export async function postIncident(
  url: string,
  body: unknown,
  auth: AlertAuth,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const target = new URL(url);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (auth !== 'none' && 'basic' in auth)
    headers.Authorization = `Basic ${Buffer.from(`monitoring:${auth.basic}`).toString('base64')}`;
  if (auth !== 'none' && 'bearer' in auth) headers.Authorization = `Bearer ${auth.bearer}`;
  if (auth !== 'none' && 'urlToken' in auth) target.searchParams.set('token', auth.urlToken);
  const res = await fetch(target, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export interface ReceiverProcess {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** `npx ct alerts serve` on a free port, as a process group of its own; resolves once it listens. */
export async function startReceiverProcess(configPath: string, env: Record<string, string>): Promise<ReceiverProcess> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ct.cjs'), '--config', configPath, 'alerts', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testStack().CT_TEST_TEMPORAL_ADDRESS,
      CT_LOG_FORMAT: 'pretty',
      CT_ALERTS_ADDRESS: '127.0.0.1:0',
      ...env,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const url = await Promise.race([
    eventually(() => /listening on (\S+)/.exec(out)?.[1], 60_000),
    closed.then(() => Promise.reject(new Error(`ct alerts serve exited:\n${out}`))),
  ]);
  return {
    url,
    output: () => out,
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await closed;
    },
  };
}
