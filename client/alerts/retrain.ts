import type { Client } from '@temporalio/client';
import { ALERT_LABELS } from '../../config/alert-trigger-config';
import type { PipelineConfig } from '../../config/pipeline-config';
import { InvalidRunError } from '../../config/runs';
import { partitionAt, searchAttributes as sa, trainingRunWorkflowType, type TrainingRunInput } from '../../contracts';
import { trainingRunStartOptions } from '../../starts/data-ready';
import { startOrFind } from '../../starts/start-or-find';
import { runLabels, type Incident } from './incident';

// An incident becomes a retrain request: the training run of the window it started in, started
// through the path every other start of a partition's run takes (the canonical id, REJECT_DUPLICATE),
// so one run per partition holds whoever fires, and any number of incidents in one window share it.

/** What the incident's labels and the config say cannot be served (answered 422; nothing started). */
export class AlertRefused extends Error {
  override name = 'AlertRefused';
}

/** The memo key on a run an alert started: which incident, from which policy, and its console link. */
export const ALERT_MEMO = 'alertIncident';
export interface AlertMemo {
  incidentId: string;
  policy?: string;
  condition?: string;
  url?: string;
  startedAt: string;
}

export interface RetrainAnswer {
  /**
   * started: this incident started the window's run. attached: the run was running (started by
   * someone else, or by an earlier notification). finished: the window's run already ran, nothing
   * new. ignored: a closed incident, which never starts one.
   */
  outcome: 'started' | 'attached' | 'finished' | 'ignored';
  incidentId: string;
  state: Incident['state'];
  environment: string;
  pipeline: string;
  segment?: string;
  /** The window: the partition whose run is the retrain. */
  partition: string;
  workflowId: string;
  reason: string;
}

/** The run an incident asks for, checked against the config; AlertRefused naming the label when none. */
export function retrainTarget(config: PipelineConfig, incident: Incident, defaultEnvironment?: string) {
  const labels = runLabels(incident);
  const named = `the incident's labels (${Object.entries(ALERT_LABELS)
    .map(([k, label]) => `${label}=${labels[k as keyof typeof labels] ?? '-'}`)
    .join(', ')})`;
  if (!labels.pipeline)
    throw new AlertRefused(
      `${ALERT_LABELS.pipeline}: the alerting policy names no pipeline (a user label ${ALERT_LABELS.pipeline} on the policy, the incident or the metric); pipelines that take alerts: ${alertPipelines(config)}`,
    );
  const pipeline = config.pipelines[labels.pipeline];
  if (!pipeline)
    throw new AlertRefused(
      `${ALERT_LABELS.pipeline}: unknown pipeline "${labels.pipeline}"; pipelines that take alerts: ${alertPipelines(config)}`,
    );
  const rule = pipeline.retrainOnAlert;
  if (!rule)
    throw new AlertRefused(
      `${ALERT_LABELS.pipeline}: pipeline ${labels.pipeline} takes no retrain requests from alerts (no retrainOnAlert: section); pipelines that do: ${alertPipelines(config)}`,
    );
  const environment = labels.environment ?? defaultEnvironment;
  if (!environment)
    throw new AlertRefused(
      `${ALERT_LABELS.environment}: ${named} name no environment and the receiver has no CT_ALERTS_ENVIRONMENT; ${labels.pipeline} has ${Object.keys(pipeline.environments).join(', ')}`,
    );
  if (rule.environments && pipeline.environments[environment] && !rule.environments.includes(environment))
    throw new AlertRefused(
      `${ALERT_LABELS.environment}: pipeline ${labels.pipeline} takes retrain requests from alerts in ${rule.environments.join(', ')}, not "${environment}"`,
    );
  const partition = partitionAt(
    new Date(incident.started_at * 1000),
    pipeline.data.partition,
    rule.partition.offset,
    rule.partition.timezone,
  );
  const input: TrainingRunInput = {
    pipeline: labels.pipeline,
    environment,
    partition,
    ...(labels.segment ? { segment: labels.segment } : {}),
    ...(rule.assumeDataReady ? { assumeDataReady: true } : {}),
  };
  try {
    const options = trainingRunStartOptions(config, input);
    return { input, options, namespace: pipeline.environments[environment]!.temporal.namespace };
  } catch (err) {
    if (err instanceof InvalidRunError) throw new AlertRefused(`${named} name no run: ${err.message}`);
    throw err;
  }
}

/**
 * Delivers the incident as a retrain request: a closed incident starts nothing; an open one starts
 * its window's run, or finds it running or finished. The run an incident starts carries its id in
 * the `alertIncidents` search attribute and the `alertIncident` memo.
 */
export async function requestRetrain(
  clientFor: (namespace: string) => Client,
  config: PipelineConfig,
  incident: Incident,
  defaultEnvironment?: string,
): Promise<RetrainAnswer> {
  const { input, options, namespace } = retrainTarget(config, incident, defaultEnvironment);
  const answer = {
    incidentId: incident.incident_id,
    state: incident.state,
    environment: input.environment,
    pipeline: input.pipeline,
    ...(input.segment ? { segment: input.segment } : {}),
    partition: input.partition,
    workflowId: options.workflowId,
  };
  if (incident.state === 'closed')
    return { ...answer, outcome: 'ignored', reason: 'a closed incident never starts a retrain' };
  const memo: AlertMemo = {
    incidentId: incident.incident_id,
    policy: incident.policy_name,
    condition: incident.condition_name,
    url: incident.url,
    startedAt: new Date(incident.started_at * 1000).toISOString(),
  };
  const outcome = await startOrFind(clientFor(namespace), {
    workflowType: trainingRunWorkflowType,
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: options.args,
    staticSummary: `${options.staticSummary} (alert: ${incident.policy_name ?? incident.incident_id})`,
    memo: { [ALERT_MEMO]: memo },
    typedSearchAttributes: [{ key: sa.alertIncidents, value: [incident.incident_id] }],
  });
  const reason = {
    started: `started ${options.workflowId}, the retrain of partition ${input.partition}`,
    attached: `${options.workflowId} is running: the retrain of partition ${input.partition} is under way, nothing new started`,
    finished: `${options.workflowId} already ran: partition ${input.partition} has had its one run, nothing new started (ct train --rerun runs it again)`,
  }[outcome];
  return { ...answer, outcome, reason };
}

const alertPipelines = (config: PipelineConfig) =>
  Object.keys(config.pipelines)
    .filter((name) => config.pipelines[name]!.retrainOnAlert)
    .join(', ') || 'none';
