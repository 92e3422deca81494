import { setHandler } from '@temporalio/workflow';
import { approveUpdate, checkApproval, rejectUpdate, type ApprovalAck, type TrainingRunStatus } from '../contracts';

// `ct approve` / `ct reject` (or the UI): Updates whose validators turn away what makes no sense,
// so the caller hears why and the run's history records nothing. The handler runs synchronously
// after its validator, so of two approvals in one workflow task the second sees the first.

export function installApprovalHandlers(workflowId: string, status: TrainingRunStatus): void {
  const check = (raw: unknown, decision: 'approve' | 'reject') => {
    const args = checkApproval(raw, decision);
    const done = status.approval;
    if (done) {
      const who = done.by ? ` by ${done.by}` : '';
      throw new Error(`run ${workflowId} was already ${done.decision}${who} at ${done.at}; a decision is final`);
    }
    if (status.phase !== 'awaiting-approval') {
      throw new Error(
        `run ${workflowId} is not waiting for approval: it is ${status.phase}${status.model ? ` (model ${status.model.version})` : ''}`,
      );
    }
    return args;
  };
  const decide =
    (decision: 'approved' | 'rejected') =>
    (raw: unknown): ApprovalAck => {
      const args = check(raw, decision === 'approved' ? 'approve' : 'reject');
      status.approval = { decision, by: args.by, reason: args.reason, at: new Date().toISOString() };
      return { workflowId, decision, modelVersion: `${status.model!.name}@${status.model!.version}` };
    };
  setHandler(approveUpdate, decide('approved'), { validator: (raw) => void check(raw, 'approve') });
  setHandler(rejectUpdate, decide('rejected'), { validator: (raw) => void check(raw, 'reject') });
}
