import type { FaultInput, JobKind, ScriptRuleInput } from '../../emulators/vertex-ai/control-schema';
import type { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import type { ProdStack, StackProcess } from './prod-stack';

// What goes wrong during the season, from the two places it comes from: Vertex (the emulator's
// control API: docs/vertex-emulator.md) and the process table (SIGKILL, which the stack's supervisor
// answers with a restart, as it would for a user). Each injection is one ledger fault.

export interface Injected {
  kind: string;
  detail?: string;
}

const CREATES: Record<JobKind, string> = {
  pipelineJob: 'CreatePipelineJob',
  customJob: 'CreateCustomJob',
  batchPredictionJob: 'CreateBatchPredictionJob',
};
const LISTS: Record<JobKind, string> = {
  pipelineJob: 'ListPipelineJobs',
  customJob: 'ListCustomJobs',
  batchPredictionJob: 'ListBatchPredictionJobs',
};

/** The Vertex faults, injected in turn so that every kind happens in even a short season. */
export function vertexFaults(o: { lateCommitMs: number; kinds: JobKind[] }): ((turn: number) => {
  kind: string;
  fault?: FaultInput;
  rule?: ScriptRuleInput;
})[] {
  const kindOf = (turn: number) => o.kinds[turn % o.kinds.length]!;
  const outcome = (name: 'PAUSED' | 'EXPIRED' | 'FAILED') => (turn: number) => ({
    kind: `vertex:job-${name.toLowerCase()}`,
    rule: {
      match: { kind: kindOf(turn) },
      script: {
        outcome: name,
        ...(name === 'FAILED' ? { error: { code: 13, message: 'soak: the job failed (injected)' } } : {}),
      },
      times: 1,
    },
  });
  return [
    (turn) => ({
      kind: 'vertex:lost-create',
      fault: { method: CREATES[kindOf(turn)], code: 'UNAVAILABLE', mode: 'lose-response', times: 1 },
    }),
    () => ({ kind: 'vertex:429-storm', fault: { method: '*', code: 'RESOURCE_EXHAUSTED', times: 25 } }),
    outcome('FAILED'),
    (turn) => ({
      kind: 'vertex:late-create',
      fault: {
        method: CREATES[kindOf(turn)],
        code: 'DEADLINE_EXCEEDED',
        mode: 'commit-late',
        commitAfterMs: o.lateCommitMs,
        times: 1,
      },
    }),
    (turn) => ({
      kind: 'vertex:slow-list',
      fault: { method: LISTS[kindOf(turn)], mode: 'delay', delayMs: 4_000, times: 4 },
    }),
    outcome('PAUSED'),
    // Compressed time keeps Vertex's order: a listing lags a create by seconds, a job runs minutes.
    // Here jobs run 8 s, so the lag stays under a retry's second look (LIST_SETTLE_MS, 5 s); a longer
    // one would hide a twin for its whole life, which no listing of Vertex's does.
    (turn) => ({
      kind: 'vertex:stale-list',
      fault: { method: LISTS[kindOf(turn)], mode: 'stale-list', lagMs: 4_000, times: 6 },
    }),
    outcome('EXPIRED'),
  ];
}

export class VertexFaults {
  private turn = 0;
  private readonly plan: ReturnType<typeof vertexFaults>;

  constructor(
    private readonly control: VertexEmulatorControl,
    o: { lateCommitMs: number; kinds: JobKind[] },
  ) {
    this.plan = vertexFaults(o);
  }

  /** The next fault in turn, injected. */
  async next(): Promise<Injected> {
    const turn = this.turn++;
    const f = this.plan[turn % this.plan.length]!(turn);
    if (f.fault) await this.control.addFault(f.fault);
    if (f.rule) await this.control.addRule(f.rule);
    return { kind: f.kind, detail: JSON.stringify(f.fault ?? f.rule) };
  }

  /** An operator's cancel that loses the race to the job's own end (Vertex finishes it anyway). */
  async loseCancel(jobName: string): Promise<Injected> {
    await this.control.scriptJob(jobName, { cancel: 'lose-succeed' });
    return { kind: 'vertex:cancel-lost', detail: jobName };
  }

  /** What is still armed when the season ends: gone, so the runs left can finish. */
  async disarm(): Promise<void> {
    await this.control.clearFaults();
    await this.control.clearRules();
  }
}

/** A process of the stack, SIGKILLed; the supervisor reports it and restarts it. */
export function sigkill(p: StackProcess, what: string): Injected {
  process.kill(p.pid, 'SIGKILL');
  return { kind: `process:${what}-sigkill`, detail: `${p.name} pid ${p.pid}` };
}

/** The worker to kill next: the one up longest, so the supervisor's restart backoff stays at its first step. */
export function workerToKill(stack: ProdStack, startedAt: Map<number, number>): StackProcess | undefined {
  const workers = stack.processes().filter((p) => p.name.startsWith('worker-'));
  for (const w of workers) if (!startedAt.has(w.pid)) startedAt.set(w.pid, Date.now());
  return workers.sort((a, b) => startedAt.get(a.pid)! - startedAt.get(b.pid)!)[0];
}

/** Resolves once the stack reports `name` back after its restart (or after `timeoutMs`). */
export async function restarted(stack: ProdStack, name: string, since: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`\\[restart\\] (\\S+) ${name} is back \\(pid`, 'g');
  while (Date.now() < deadline) {
    for (const m of stack.output().matchAll(pattern)) if (Date.parse(m[1]!) >= since) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
