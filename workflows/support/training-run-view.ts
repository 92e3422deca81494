import type { RunPlan, TrainingRunStatus } from '../../contracts';

// How a training run shows itself: the UI's current details (markdown).

const phaseTitle: Record<TrainingRunStatus['phase'], string> = {
  resolving: 'Resolving the pipeline definition',
  'waiting-for-data': 'Waiting for data',
  submitting: 'Submitting the Vertex AI job',
  running: 'Training on Vertex AI',
  cancelling: 'Cancelling the Vertex AI job',
  evaluating: 'Evaluating the model',
  registering: 'Registering the model',
  'awaiting-approval': 'Waiting for approval',
  rejected: 'Model rejected by the evaluation gate',
  succeeded: 'Trained',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
};

export function currentDetails(status: TrainingRunStatus, plan: RunPlan | undefined): string {
  const lines = [
    `**${phaseTitle[status.phase]}** · ${status.pipeline} · ${status.environment} · partition ${status.partition}${status.segment ? ` · ${status.segment}` : ''}`,
  ];
  if (status.datasets.length) {
    lines.push(
      '',
      'Data:',
      ...status.datasets.map((d) => `- [${d.ready ? 'x' : ' '}] ${d.dataset}${d.uri ? ` (${d.uri})` : ''}`),
    );
  }
  if (status.job) {
    // The watch reports only when the job ends (that is what keeps it cheap): the state shown is the
    // one last seen, and the console has the live one.
    lines.push(
      '',
      `Vertex AI ${status.job.kind === 'pipelineJob' ? 'PipelineJob' : 'CustomJob'} attempt ${status.job.attempt}${plan ? `/${plan.maxAttempts}` : ''} (last seen ${status.job.state ?? 'unknown'}) — [open in the console](${status.job.consoleUrl})`,
    );
  }
  for (const a of status.attempts) lines.push(`- attempt ${a.attempt}: ${a.state}${a.error ? ` — ${a.error}` : ''}`);
  if (status.gate) {
    lines.push(
      '',
      `Evaluation gate: ${status.gate.passed ? 'passed' : 'failed'}`,
      '',
      '| check | candidate | against | |',
      '|---|---|---|---|',
    );
    for (const c of status.gate.checks)
      lines.push(`| ${c.check} | ${c.candidate ?? '—'} | ${c.against ?? '—'} | ${c.passed ? 'ok' : 'FAIL'} |`);
  }
  if (status.model) {
    lines.push(
      '',
      `Model version ${status.model.version} (${status.model.aliases.join(', ')}) — [open in the Model Registry](${status.model.consoleUrl})`,
    );
  }
  if (status.approval) {
    lines.push(
      `Approval: ${status.approval.decision}${status.approval.by ? ` by ${status.approval.by}` : ''} at ${status.approval.at}${status.approval.reason ? ` — ${status.approval.reason}` : ''}`,
    );
  }
  if (status.reason) lines.push('', status.reason);
  return lines.join('\n');
}
