// `npm run dev`: the local stack in the foreground (stack/dev-topology.ts says what it starts).
import { devCommand, runDevStack } from '../stack/dev-topology';

void runDevStack().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools, or StackAlreadyRunning.
  console.error(`${devCommand}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
