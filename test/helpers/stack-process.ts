import { spawn, type ChildProcess } from 'node:child_process';
import { processAlive } from '../../stack/lock';
import { eventually } from './eventually';

// `npm run dev` and `npm run stack:prod` as a terminal runs them: in a process group of their own,
// so a Ctrl-C (SIGINT to the group) reaches them as it would from a shell.

export interface StackProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves (exit code or signal) when every holder of the output pipes (script, servers, workers) is gone. */
  exited: Promise<string>;
  /** The banner, once the whole stack is up; rejects with the output if the stack exits first. */
  banner: () => Promise<string>;
  /** A terminal's Ctrl-C: SIGINT to the process group. */
  ctrlC: () => Promise<string>;
}

export function startStackProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; upWithin: number },
): StackProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': it waits for the children that inherited the pipes too.
  const exited = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => resolve(signal ?? String(code))),
  );
  return {
    child,
    output: () => out,
    exited,
    banner: () => {
      const up = eventually(() => (out.includes('Ctrl-C stops everything') ? out : undefined), options.upWithin);
      const died = exited.then((code) => Promise.reject(new Error(`${name} exited (${code}):\n${out}`)));
      return Promise.race([up, died]);
    },
    ctrlC: () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // already gone
      }
      return exited;
    },
  };
}

/** The pids among `pids` that are still alive. */
export function pidsAlive(pids: number[]): number[] {
  return pids.filter(processAlive);
}
