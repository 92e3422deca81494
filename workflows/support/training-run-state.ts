import {
  condition,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  approveUpdate,
  checkApproval,
  checkDataReady,
  dataReadyUpdate,
  invalidInput,
  rejectUpdate,
  searchAttributes as sa,
  trainingStatusQuery,
  vertexJobMemoKey,
  type ApprovalAck,
  type DatasetStatus,
  type GateResult,
  type JobProgress,
  type ModelResult,
  type RunPlan,
  type TrainingJobRef,
  type TrainingPhase,
  type TrainingRunInput,
  type TrainingRunStatus,
  type VertexJobMemo,
} from '../../contracts';
import { currentDetails } from './training-run-view';

// A training run's state and every message handler that reads or changes it, in one place (the
// safe-message-handlers pattern): the workflow body and the model step change it only through these
// methods, and the handlers see the same state. Validators refuse what the run can already know is
// wrong, so nothing refused reaches history; a handler runs synchronously after its validator, so
// of two messages in one workflow task the second sees the first.

export class TrainingRunState {
  readonly status: TrainingRunStatus;
  /** Set once planned; the handlers may run before (a data-ready sent with the start). */
  plan?: RunPlan;
  private readonly ready = new Map<string, DatasetStatus>();
  /** Why the run cannot be planned: a data-ready waiting for the plan is answered with it. */
  private unplannable: unknown;

  constructor(
    private readonly workflowId: string,
    private readonly input: Pick<TrainingRunInput, 'pipeline' | 'environment' | 'partition' | 'segment'>,
  ) {
    const { pipeline, environment, partition, segment } = input;
    this.status = { pipeline, environment, partition, segment, phase: 'resolving', datasets: [], attempts: [] };
  }

  installHandlers(): void {
    setHandler(trainingStatusQuery, () => this.status);
    setHandler(approveUpdate, (raw) => this.decide('approved', raw), {
      validator: (raw) => void this.checkDecision(raw, 'approve'),
    });
    setHandler(rejectUpdate, (raw) => this.decide('rejected', raw), {
      validator: (raw) => void this.checkDecision(raw, 'reject'),
    });
    setHandler(dataReadyUpdate, (raw) => this.dataReady(raw), {
      validator: (raw) => {
        // Once the plan is known, a dataset the run does not wait for is refused here, out of history.
        const unknown = this.unknownDataset(checkDataReady(raw, this.input.partition).dataset);
        if (unknown) throw new Error(unknown);
      },
    });
    this.refresh();
  }

  planned(plan: RunPlan): void {
    this.plan = plan;
  }

  cannotPlan(failure: unknown): void {
    this.unplannable = failure;
  }

  setPhase(phase: TrainingPhase, reason?: string): void {
    this.status.phase = phase;
    this.status.reason = reason;
    // One upsert per phase change: each is a billable action, so phases are few and coarse.
    upsertSearchAttributes([{ key: sa.runPhase, value: phase }]);
    this.refresh();
  }

  /** The UI's current details follow the status. */
  refresh(): void {
    const plan = this.plan;
    if (plan) this.status.datasets = plan.datasets.map((d) => this.ready.get(d) ?? { dataset: d, ready: false });
    setCurrentDetails(currentDetails(this.status, plan));
  }

  /** The job of the current attempt: submitted (the run is then running it). */
  jobSubmitted(job: TrainingJobRef): void {
    this.status.job = job;
    this.setPhase('running');
    // The job is also kept where the server holds it (the status query needs a worker): one memo
    // upsert per attempt. patched: runs recorded before kept it in their status only.
    if (patched('vertex-job-memo')) {
      const memo: VertexJobMemo = { kind: job.kind, name: job.name, attempt: job.attempt, consoleUrl: job.consoleUrl };
      upsertMemo({ [vertexJobMemoKey]: memo });
    }
  }

  /** Each look the watch returns; the UI follows until the job ended. */
  jobProgress(progress: JobProgress): void {
    this.status.job = progress.job;
    if (!progress.terminal) this.refresh();
  }

  /** An attempt whose job ended without a model (failed, expired, paused or cancelled). */
  attemptEnded(attempt: TrainingRunStatus['attempts'][number]): void {
    this.status.attempts.push(attempt);
  }

  waitingFor(): string[] {
    return this.plan ? this.plan.datasets.filter((d) => !this.ready.has(d)) : [];
  }

  recordGate(gate: GateResult): void {
    this.status.gate = gate;
  }

  recordModel(model: ModelResult): void {
    this.status.model = model;
  }

  /** Waits up to `timeoutMs` for ct approve / ct reject; a timer, not compute. Records a timeout as the decision. */
  async awaitDecision(timeoutMs: number, timedOutReason: string): Promise<NonNullable<TrainingRunStatus['approval']>> {
    const decided = await condition(() => this.status.approval !== undefined, timeoutMs);
    if (!decided)
      this.status.approval = { decision: 'timed-out', at: new Date().toISOString(), reason: timedOutReason };
    return this.status.approval!;
  }

  private unknownDataset(dataset: string): string | undefined {
    const plan = this.plan;
    return plan && !plan.datasets.includes(dataset)
      ? `dataset: run ${this.workflowId} does not wait for dataset "${dataset}"; it waits for ${plan.datasets.join(', ')}`
      : undefined;
  }

  private async dataReady(raw: unknown) {
    const args = checkDataReady(raw, this.input.partition);
    // Data-ready may arrive with the start (update-with-start), before the plan is known.
    await condition(() => this.plan !== undefined || this.unplannable !== undefined);
    if (!this.plan) throw this.unplannable;
    const unknown = this.unknownDataset(args.dataset);
    if (unknown) throw invalidInput(unknown);
    const accepted = !this.ready.has(args.dataset);
    if (accepted) {
      this.ready.set(args.dataset, {
        dataset: args.dataset,
        ready: true,
        uri: args.uri,
        source: args.source,
        at: new Date().toISOString(),
      });
      this.refresh();
    }
    return { workflowId: this.workflowId, accepted, waitingFor: this.waitingFor(), phase: this.status.phase };
  }

  private checkDecision(raw: unknown, decision: 'approve' | 'reject') {
    const args = checkApproval(raw, decision);
    const done = this.status.approval;
    if (done) {
      const who = done.by ? ` by ${done.by}` : '';
      throw new Error(`run ${this.workflowId} was already ${done.decision}${who} at ${done.at}; a decision is final`);
    }
    if (this.status.phase !== 'awaiting-approval') {
      const model = this.status.model;
      throw new Error(
        `run ${this.workflowId} is not waiting for approval: it is ${this.status.phase}${model ? ` (model ${model.version})` : ''}`,
      );
    }
    return args;
  }

  private decide(decision: 'approved' | 'rejected', raw: unknown): ApprovalAck {
    const args = this.checkDecision(raw, decision === 'approved' ? 'approve' : 'reject');
    this.status.approval = { decision, by: args.by, reason: args.reason, at: new Date().toISOString() };
    const model = this.status.model!;
    return { workflowId: this.workflowId, decision, modelVersion: `${model.name}@${model.version}` };
  }
}
