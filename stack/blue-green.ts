import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { bundleBuildId } from '../config/build-id';
import { openPinnedRuns, setCurrentVersion, type DeploymentTarget } from './deployment';
import type { DeployStatus } from './lock';

// A blue-green deploy of a versioned `npm run stack:prod` (CT_DEPLOYMENT_NAME), the steps of
// docs/production.md#safe-deploys-while-runs-are-in-flight-worker-deployment-versioning done by
// the stack itself, so the new build's workers are supervised like the old ones: start the new
// build's workers beside the old, make it current, wait until no run is pinned to the old build,
// then stop the old workers (SIGTERM; they are not restarted). `npm run stack:prod:deploy`
// (scripts/prod-deploy.ts) asks for one: a request file beside the stack's lock, then SIGUSR2 to
// the stack, which publishes each step in its lock (`deployment.deploy`) and prints it as [deploy].

export interface Build {
  buildId: string;
  /** The workflow bundle its workers load: the stack's own copy (keepBuild). */
  bundle: string;
}

/** A build's workers, as the stack names them (their logs: worker-4.log …). */
export interface WorkerGroup {
  build: Build;
  names: string[];
}

export const DeployRequest = z.object({
  id: z.string().min(1),
  /** The workflow bundle to deploy (npm run build's dist/workflow-bundle.js). */
  bundle: z.string().min(1),
  /** Its build id; by default the bundle's hash, as the worker derives it. */
  buildId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .optional(),
});
export type DeployRequest = z.infer<typeof DeployRequest>;

/**
 * The bundle, copied where the stack keeps its builds, so that rebuilding dist/ for the next
 * version changes no running version's code: a worker of the old build that dies meanwhile comes
 * back on the old build.
 */
export function keepBuild(buildsDir: string, bundle: string, buildId?: string): Build {
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first`);
  const id = buildId ?? bundleBuildId(bundle);
  const dir = path.join(buildsDir, id);
  mkdirSync(dir, { recursive: true });
  const kept = path.join(dir, 'workflow-bundle.js');
  if (!existsSync(kept)) copyFileSync(bundle, kept);
  return { buildId: id, bundle: kept };
}

const now = () => new Date().toISOString();

/** One line per step, prefixed so an operator (or a log search) finds them all. */
function report(message: string): void {
  console.log(`\n[deploy] ${now()} ${message}`);
}

export interface BlueGreenOptions {
  target: DeploymentTarget;
  buildsDir: string;
  /** Where `npm run stack:prod:deploy` writes its request. */
  requestFile: string;
  /** Starts a build's workers (as many as the stack runs), ready and supervised. */
  startGroup: (build: Build) => Promise<WorkerGroup>;
  /** Stops workers for good. */
  retire: (names: string[]) => Promise<void>;
  /** Tells the stack's lock: the current build, every build's workers, the deploy's state. */
  publish: (p: { current: string; workers: Record<string, string>; deploy?: DeployStatus }) => void;
  /** Between two looks at the old build's pinned runs. */
  drainPollMs?: number;
}

export class BlueGreen {
  private groups: WorkerGroup[];
  private current: WorkerGroup;
  private deploying = false;
  private last?: DeployStatus;

  constructor(
    private readonly o: BlueGreenOptions,
    first: WorkerGroup,
  ) {
    this.groups = [first];
    this.current = first;
    this.publish();
  }

  /** A request arrived (SIGUSR2): deployed, unless one is under way. */
  async requested(): Promise<void> {
    let req: DeployRequest;
    try {
      req = DeployRequest.parse(JSON.parse(readFileSync(this.o.requestFile, 'utf8')));
    } catch (err) {
      return report(`ignored: no readable request in ${this.o.requestFile} (${(err as Error).message})`);
    }
    if (this.last?.id === req.id) return;
    if (this.deploying) {
      this.last = this.status(req.id, 'failed', `refused: a deploy is under way (${this.last?.message ?? ''})`);
      this.publish();
      return report(this.last.message);
    }
    this.deploying = true;
    try {
      await this.deploy(req);
    } finally {
      this.deploying = false;
    }
  }

  private status(id: string, state: DeployStatus['state'], message: string): DeployStatus {
    return { id, from: this.current.build.buildId, state, message, at: { [state]: now() } };
  }

  private publish(): void {
    const workers = Object.fromEntries(this.groups.flatMap((g) => g.names.map((n) => [n, g.build.buildId])));
    this.o.publish({ current: this.current.build.buildId, workers, deploy: this.last });
  }

  private async deploy(req: DeployRequest): Promise<void> {
    const from = this.current;
    const d: DeployStatus = (this.last = this.status(req.id, 'starting', `deploy of ${req.bundle} requested`));
    const step = (state: DeployStatus['state'], message: string) => {
      d.state = state;
      d.message = message;
      d.at[state] = now();
      this.publish();
      report(message);
    };
    try {
      const build = keepBuild(this.o.buildsDir, req.bundle, req.buildId);
      d.to = build.buildId;
      if (build.buildId === from.build.buildId)
        return step('done', `nothing to deploy: ${req.bundle} is build ${build.buildId}, the current one`);
      step('starting', `starting build ${build.buildId}'s workers beside build ${from.build.buildId}'s`);
      const green = await this.o.startGroup(build);
      this.groups.push(green);
      step('switching', `build ${build.buildId}'s workers (${green.names.join(', ')}) poll; making it current`);
      await setCurrentVersion(this.o.target, build.buildId);
      this.current = green;
      step(
        'draining',
        `build ${build.buildId} is current; waiting until no run is pinned to build ${from.build.buildId}`,
      );
      await this.drained(from.build.buildId);
      step('retiring', `no run is pinned to build ${from.build.buildId}: stopping ${from.names.join(', ')}`);
      await this.o.retire(from.names);
      this.groups = this.groups.filter((g) => g !== from);
      step('done', `deployed build ${build.buildId}; build ${from.build.buildId}'s workers are stopped`);
    } catch (err) {
      // Whatever was started stays up: build `current` takes new runs, and no pinned run loses its workers.
      step(
        'failed',
        `deploy failed: ${err instanceof Error ? err.message : String(err)}; build ${this.current.build.buildId} is current`,
      );
    }
  }

  /** Resolves once no open run is pinned to `buildId`, seen twice in a row (visibility lags a moment behind). */
  private async drained(buildId: string): Promise<void> {
    const poll = this.o.drainPollMs ?? 2_000;
    await delay(2 * poll);
    let empty = 0;
    let told = Date.now();
    for (;;) {
      // Unanswered while the server restarts: not a look.
      const open = await openPinnedRuns(this.o.target, buildId).catch(() => undefined);
      if (open === 0) empty++;
      else if (open !== undefined) empty = 0;
      if (empty >= 2) return;
      if (open && Date.now() - told > 60_000) {
        told = Date.now();
        report(`${open} run(s) still pinned to build ${buildId}; its workers stay`);
      }
      await delay(poll);
    }
  }
}
