import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Deliberately broken builds, to see the checker catch what it claims on a real season
// (`npm run soak -- --ci --break NAME`, docs/soak.md): this checkout's committed workflow code with
// one change that breaks a promise, built apart (the product's files are never touched), and run
// by the stack for the whole season. Each names the invariants it must fail. Workflow code only:
// the stack runs the checkout's compiled activities (dist/), and a build is a workflow bundle.

export interface BrokenBuild {
  what: string;
  file: string;
  /** The text replaced, which must occur exactly once (test/soak/broken-builds.test.ts checks it still does). */
  find: string;
  replace: string;
  /** The checker's invariants this build must fail, naming the ids that break them. */
  breaks: string[];
}

export const brokenBuilds: Record<string, BrokenBuild> = {
  'cancel-skips-job': {
    what: 'a cancelled run ends at once without cancelling its live Vertex job, which runs on and ends after the run (the cancel path skipping the job it owns)',
    file: 'workflows/support/vertex-job-supervisor.ts',
    find: '    if (!owned || owned.ended) return undefined;\n',
    replace: '    if (!owned || owned.ended || owned) return undefined;\n',
    breaks: ['cancelled runs cancel their jobs'],
  },
};

/** Applies the break `name` to the tree in `dir`; throws when it no longer fits the code. */
export function applyBreak(dir: string, name: string): void {
  const b = brokenBuilds[name];
  if (!b) throw new Error(`--break: no broken build ${name}; there are ${Object.keys(brokenBuilds).join(', ')}`);
  const file = path.join(dir, b.file);
  const text = readFileSync(file, 'utf8');
  const found = text.split(b.find).length - 1;
  if (found !== 1)
    throw new Error(`--break ${name}: ${b.file} has ${found} copies of the text it replaces (the code moved on)`);
  writeFileSync(file, text.replace(b.find, b.replace));
}
