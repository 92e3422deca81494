// The layer rules (.dependency-cruiser.cjs, run by `npm run lint`) are what keep imports going
// downwards and circles out; prove they fail on probes that break them and pass one that does not.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

// A tree of its own in the layout of the repository: the rules match paths, so a probe under
// config/ is judged as config code. One depcruise run judges them all.
const probes: Record<string, string> = {
  'contracts/a.ts': `export type A = string;\n`,
  'workflows/w.ts': `import type { A } from '../contracts/a';\nexport const w = 1;\nexport type W = A;\n`,
  'config/upward-value.ts': `import { w } from '../workflows/w';\nexport const x = w;\n`,
  'config/upward-type.ts': `import type { W } from '../workflows/w';\nexport type X = W;\n`,
  'infra/c1.ts': `import type { C2 } from './c2';\nexport type C1 = C2 | 1;\n`,
  'infra/c2.ts': `import type { C1 } from './c1';\nexport type C2 = C1 | 2;\n`,
  'stack/runs-worker.ts': `import { w } from '../workflows/w';\nexport const x = w;\n`,
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}
let violations: Violation[];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ct-layers-'));
  for (const [file, source] of Object.entries(probes)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  const bin = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
  const res = spawnSync(
    process.execPath,
    [bin, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', '.'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  if (!res.stdout) throw new Error(`depcruise failed: ${res.stderr}`);
  violations = (JSON.parse(res.stdout) as { summary: { violations: Violation[] } }).summary.violations;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const from = (file: string) => violations.filter((v) => v.from === file).map((v) => `${v.rule.name}: ${v.to}`);

test('a lower layer may not import a higher one', () => {
  expect(from('config/upward-value.ts')).toEqual(['layer-config: workflows/w.ts']);
});

test('type-only imports count', () => {
  expect(from('config/upward-type.ts')).toEqual(['layer-config: workflows/w.ts']);
});

test('import circles are errors, type-only ones too', () => {
  // One violation per circle, from whichever file the cruise met first.
  expect([...from('infra/c1.ts'), ...from('infra/c2.ts')]).toEqual([
    expect.stringMatching(/^no-circular: infra\/c[12]\.ts$/),
  ]);
});

test('the local stacks run the app as processes, never import it', () => {
  expect(from('stack/runs-worker.ts')).toEqual(['stack-runs-processes: workflows/w.ts']);
});

test('imports downwards are fine', () => {
  expect(from('workflows/w.ts')).toEqual([]);
});
