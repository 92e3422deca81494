import { runCli } from '../../client/cli/program';

// The operators' side of the season, through `ct` itself (client/cli/program.ts run in this
// process, exactly the commands a person types): schedules sync and pause, approve and reject,
// predict, cancel. Each call's exit code and output are kept for the result.

export interface CtCall {
  args: string[];
  code: number;
  out: string;
  err: string;
  at: string;
  ms: number;
}

export class Operator {
  readonly calls: CtCall[] = [];

  constructor(private readonly configPath: string) {}

  /** `ct --config <soak config> --json …`; resolves to the call (exit code 0 done, 1 refused, 2 usage). */
  async ct(...args: string[]): Promise<CtCall> {
    const out: string[] = [];
    const err: string[] = [];
    const t0 = Date.now();
    const code = await runCli(['--config', this.configPath, '--json', ...args], {
      out: (t) => void out.push(t),
      err: (t) => void err.push(t),
    });
    const call = {
      args,
      code,
      out: out.join('\n'),
      err: err.join('\n'),
      at: new Date(t0).toISOString(),
      ms: Date.now() - t0,
    };
    this.calls.push(call);
    return call;
  }

  /**
   * As a person does when the server is restarting: the same command again, a few seconds apart,
   * while it fails because Temporal did not answer (a refusal is an answer and is returned).
   */
  async ctPatiently(args: string[], tries = 12, delayMs = 5_000): Promise<CtCall> {
    for (let i = 1; ; i++) {
      const call = await this.ct(...args);
      // With PostgreSQL down the server answers "Namespace not found" (starts/data-ready.ts says why).
      const unanswered =
        call.code === 1 &&
        /unreachable|UNAVAILABLE|DEADLINE_EXCEEDED|not reachable|connect|Namespace not found/i.test(call.err);
      if (!unanswered || i >= tries) return call;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
