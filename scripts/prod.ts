// `npm run stack:prod`: the production topology on this machine, in the foreground
// (stack/prod-topology.ts says what it starts and how it restarts what dies).
// Run as `node --import tsx` (package.json), not through tsx's CLI: that parent relays a Ctrl-C
// and SIGKILLs the script if it has not confirmed the signal within 60 ms, which a loaded machine
// misses, leaving the detached services running with nobody to stop them.
import { prodCommand, runProdStack } from '../stack/prod-topology';

void runProdStack().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools or build, or StackAlreadyRunning.
  console.error(`${prodCommand}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
