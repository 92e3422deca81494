import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../stack/tools';

// The build the soak's blue-green deploy starts from: this checkout's workflow code without the
// change the deploy carries (or a git ref's, with --deploy-from), built apart. The soak deploys from
// it to this checkout's build mid-season, so that change (and the patched() it needs) meets the
// runs in flight.

const run = promisify(execFile);

export interface PreviousBuild {
  /** What was asked for (a git ref), and the commit it named. */
  ref: string;
  commit: string;
  subject: string;
  bundle: string;
  buildMs: number;
}

/**
 * The change the next deploy carries, taken out of this checkout's workflow code to make the build
 * the season starts on: the old build is this tree minus that change (every other fix included, and
 * no git history needed, so a shallow clone soaks too). When workflows/ gains the next patched()
 * change, this names it instead (test/soak/broken-builds.test.ts checks the text still fits).
 */
export const deployedChange = {
  name: 'before-vertex-job-memo',
  what: "a training run's current Vertex job kept in its memo (patched('vertex-job-memo'))",
  file: 'workflows/support/training-run-state.ts',
  find: /\n {4}if \(patched\('vertex-job-memo'\)\) \{\n[\s\S]*?\n {4}\}\n/,
  replace: '\n',
};

/** Takes the deployed change out of the tree in `dir`; throws when it no longer fits the code. */
export function withoutDeployedChange(dir: string): void {
  const file = path.join(dir, deployedChange.file);
  const text = readFileSync(file, 'utf8');
  if (!deployedChange.find.test(text))
    throw new Error(`the soak's deploy: ${deployedChange.file} no longer has ${deployedChange.what}`);
  writeFileSync(file, text.replace(deployedChange.find, deployedChange.replace));
}

/** The workflow bundle the season starts on: `ref`'s when given, else this checkout's without the deployed change. */
export async function previousBuild(outDir: string, ref?: string): Promise<PreviousBuild> {
  return ref
    ? workflowsAt(outDir, ref)
    : workflowsAt(outDir, 'HEAD', { name: deployedChange.name, apply: withoutDeployedChange });
}

/**
 * The workflow bundle of the tree at `wanted`, built under `outDir`; `alter` changes that tree's
 * files first (a deliberately broken build: broken-builds.ts).
 */
export async function workflowsAt(
  outDir: string,
  wanted: string,
  alter?: { name: string; apply: (dir: string) => void },
): Promise<PreviousBuild> {
  const t0 = Date.now();
  const git = (...args: string[]) => run('git', args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  const commit = (
    await git('rev-parse', '--verify', `${wanted}^{commit}`).catch((err: unknown) => {
      throw new Error(`git cannot find ${wanted} (a shallow clone? git fetch --unshallow)`, { cause: err });
    })
  ).stdout.trim();
  const subject = (await git('log', '-1', '--format=%s', commit)).stdout.trim();
  const dir = path.join(outDir, `build-${commit.slice(0, 12)}${alter ? `-${alter.name}` : ''}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = `${dir}.tar`;
  await git('archive', '--format=tar', '-o', tar, commit);
  await run('tar', ['-xf', tar, '-C', dir]);
  rmSync(tar);
  alter?.apply(dir);
  // Its dependencies are this checkout's (a build of that commit would install its own lockfile's).
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  try {
    await run(process.execPath, ['--import', 'tsx', path.join('scripts', 'build-workflow-bundle.ts')], {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(
      `building the workflows of ${wanted} failed:\n${(e.stderr || e.stdout || String(err)).slice(-3000)}`,
      {
        cause: err,
      },
    );
  }
  const bundle = path.join(dir, 'dist', 'workflow-bundle.js');
  if (!existsSync(bundle)) throw new Error(`building the workflows of ${wanted} wrote no ${bundle}`);
  return { ref: wanted, commit, subject, bundle, buildMs: Date.now() - t0 };
}
