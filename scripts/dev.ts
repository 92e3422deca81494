// `npm run dev`: the local stack in the foreground (stack/dev-topology.ts says what it starts).
// Run as `node --import tsx` (package.json), not through tsx's CLI: that parent relays a Ctrl-C
// and SIGKILLs the script if it has not confirmed the signal within 60 ms, which a loaded machine
// misses, leaving the detached services running with nobody to stop them.
import { devCommand, runDevStack } from '../stack/dev-topology';

void runDevStack().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools, or StackAlreadyRunning.
  console.error(`${devCommand}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
