// `npm run stack:prod`: the production topology on this machine, in the foreground
// (stack/prod-topology.ts says what it starts and how it restarts what dies).
import { prodCommand, runProdStack } from '../stack/prod-topology';

void runProdStack().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools or build, or StackAlreadyRunning.
  console.error(`${prodCommand}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
