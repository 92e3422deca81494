import { setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  roundMicros,
  approveStepUpdate,
  checkApproval,
  endpointConsoleUrl,
  newChampionSignal,
  rolloutStatusQuery,
  searchAttributes as sa,
  type HealthFigures,
  type RolloutCost,
  type RolloutPhase,
  type RolloutPlan,
  type RolloutStatus,
} from '../../contracts';

// A rollout's state and the messages that change it, in one place: the status the UI and `ct`
// read, a person's approval of the next step, and a newer champion that supersedes this rollout.

const phaseTitle: Record<RolloutPhase, string> = {
  planning: 'Planning',
  deploying: 'Deploying the candidate (no traffic yet)',
  smoke: 'Smoke prediction on the golden set',
  'awaiting-approval': 'Waiting for approval of the next step',
  canary: 'Canary',
  holding: 'Serving; the previous model kept deployed for an instant rollback',
  'rolling-back': 'Rolling back',
  done: 'Rolled out',
  'rolled-back': 'Rolled back',
  superseded: 'Superseded by a newer champion',
};

export class RolloutState {
  readonly status: RolloutStatus;
  /** A newer champion promoted while this rollout was in flight. */
  newer?: { version: string; startedBy: string };
  private approved = -1;
  /** Models this rollout deployed: when each went up, and the time of those already taken down. */
  private readonly deployedSince = new Map<string, number>();
  private deployedMs = 0;

  constructor(readonly plan: RolloutPlan) {
    this.status = { phase: 'planning', model: plan.model, version: plan.version, split: {} };
    setHandler(rolloutStatusQuery, () => this.status);
    setHandler(newChampionSignal, (c) => {
      if (c.version !== plan.version) this.newer = c;
    });
    setHandler(
      approveStepUpdate,
      (args) => {
        this.approved = this.status.step!.index;
        this.status.reason = `step ${this.status.step!.percent} % approved by ${args.by}${args.reason ? `: ${args.reason}` : ''}`;
        return { step: this.status.step!.index, percent: this.status.step!.percent };
      },
      {
        validator: (raw) => {
          checkApproval(raw, 'approve');
          if (this.status.phase !== 'awaiting-approval')
            throw new Error(`the rollout is ${this.status.phase}, not waiting for an approval`);
        },
      },
    );
  }

  deployStarted(key: string): void {
    this.deployedSince.set(key, Date.now());
  }

  deployEnded(key: string): void {
    const since = this.deployedSince.get(key);
    if (since === undefined) return;
    this.deployedMs += Date.now() - since;
    this.deployedSince.delete(key);
  }

  /** Node-hours of what this rollout deployed, those still up counted to now. */
  cost(): RolloutCost {
    const open = [...this.deployedSince.values()].reduce((ms, since) => ms + (Date.now() - since), 0);
    const nodeHours = ((this.deployedMs + open) / 3_600_000) * this.plan.machine.minReplicas;
    return {
      nodeHours: roundMicros(nodeHours),
      usd: this.plan.nodeHourUsd === null ? null : roundMicros(nodeHours * this.plan.nodeHourUsd),
    };
  }

  stepApproved(index: number): boolean {
    return this.approved >= index;
  }

  setPhase(phase: RolloutPhase, reason?: string): void {
    this.status.phase = phase;
    if (reason !== undefined) this.status.reason = reason;
    upsertSearchAttributes([
      { key: sa.runPhase, value: phase === 'canary' ? `canary-${this.status.step?.percent}` : phase },
    ]);
    this.show();
  }

  setEndpoint(name: string, split: Record<string, number>): void {
    this.status.endpoint = name;
    this.status.split = split;
    this.status.consoleUrl = endpointConsoleUrl(this.plan.region, this.plan.project, name);
    this.show();
  }

  setSplit(split: Record<string, number>): void {
    this.status.split = split;
    this.show();
  }

  setHealth(health: HealthFigures): void {
    this.status.health = health;
    this.show();
  }

  private show(): void {
    const s = this.status;
    const p = this.plan;
    const lines = [
      `**${phaseTitle[s.phase]}${s.phase === 'canary' && s.step ? ` ${s.step.percent} %` : ''}** · ${p.pipeline} · ${p.environment}${p.segment ? ` · ${p.segment}` : ''} · ${p.modelId}@${p.version}`,
    ];
    if (s.endpoint) lines.push('', `Endpoint ${p.endpointDisplayName} — [open in the console](${s.consoleUrl})`);
    const split = Object.entries(s.split);
    if (split.length) {
      lines.push('', 'Traffic:');
      for (const [id, percent] of split)
        lines.push(`- ${percent} % to deployed model ${id}${id === s.candidateDeployedModelId ? ' (candidate)' : ''}`);
    }
    if (s.health) {
      const f = (x: { predictions: number; errors: number; p95LatencyMs: number | null }) =>
        `${x.predictions} predictions, ${x.errors} errors, p95 ${x.p95LatencyMs ?? '—'} ms`;
      lines.push('', `Health at ${s.health.at}: candidate ${f(s.health.candidate)}`);
      if (s.health.previous) lines.push(`previous ${f(s.health.previous)}`);
    }
    if (s.reason) lines.push('', s.reason);
    if (s.cost)
      lines.push(
        '',
        `Deployed by this rollout: ${s.cost.nodeHours} node-hours${s.cost.usd === null ? '' : `, ${s.cost.usd} USD`}`,
      );
    setCurrentDetails(lines.join('\n'));
  }
}
