import { z } from 'zod';
import { ALERT_LABELS } from '../../config/alert-trigger-config';

// The JSON a Cloud Monitoring webhook notification channel POSTs, schema version 1.2 (Google's
// "Create and manage notification channels", Webhooks: the incident's id, state, policy, labels,
// times in Unix seconds, console URL and summary). Only what a retrain request needs is required;
// every other field Google sends, now or later, passes through unread.

const Labels = z.record(z.string(), z.string());

/** Unix seconds, as the documentation shows them; a numeric string is read as the same number. */
const UnixSeconds = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^[0-9]{1,12}$/, 'Unix seconds')
    .transform(Number),
]);

/** Cloud Monitoring's ids look like 0.opqiw61fsv7p; quotes and spaces would break a visibility query. */
export const IncidentId = z
  .string()
  .regex(/^[^\s"'\\]{1,256}$/, 'an incident id without spaces or quotes, at most 256 characters');

export const MonitoringNotification = z.object({
  version: z.literal('1.2', 'this receiver reads schema version "1.2" (the webhook channel\'s)'),
  incident: z.object({
    incident_id: IncidentId,
    /** open when the condition is met, closed when it no longer is (or the incident was closed). */
    state: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['open', 'closed'], 'open or closed')),
    started_at: UnixSeconds,
    ended_at: UnixSeconds.nullish(),
    policy_name: z.string().max(1024).optional(),
    condition_name: z.string().max(1024).optional(),
    url: z.string().max(2048).optional(),
    summary: z.string().max(4096).optional(),
    scoping_project_id: z.string().optional(),
    policy_user_labels: Labels.optional(),
    metadata: z.object({ user_labels: Labels.optional(), system_labels: Labels.optional() }).optional(),
    metric: z.object({ type: z.string().optional(), labels: Labels.optional() }).optional(),
  }),
});
export type MonitoringNotification = z.output<typeof MonitoringNotification>;
export type Incident = MonitoringNotification['incident'];

/** Why a body is not a notification, one line per field: `incident.started_at: …`. */
export function notificationProblems(error: z.ZodError): { fields: string[]; message: string } {
  const issues = error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }));
  return {
    fields: [...new Set(issues.map((i) => i.field))],
    message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
  };
}

/** The run the incident's labels name (each undefined when no source has it). */
export function runLabels(incident: Incident): {
  pipeline?: string;
  segment?: string;
  environment?: string;
} {
  // The policy's own labels first (static, set by whoever wrote the policy), then the incident's
  // labels, then the metric's (which a policy over many segments carries per time series).
  const sources = [incident.policy_user_labels, incident.metadata?.user_labels, incident.metric?.labels];
  const find = (key: string) => sources.map((s) => s?.[key]).find((v) => v !== undefined && v !== '');
  return {
    pipeline: find(ALERT_LABELS.pipeline),
    segment: find(ALERT_LABELS.segment),
    environment: find(ALERT_LABELS.environment),
  };
}
