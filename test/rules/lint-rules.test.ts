// The determinism rules are what keep workflow code replayable; prove lint really enforces them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');

// Each probe is linted as if it were an existing file's content, so the typed rules can run; all
// probes go through one ESLint process, since loading the typed program is most of the cost.
const probes = {
  builtin: {
    file: 'workflows/stack-check.ts',
    source: `import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`,
  },
  activityValue: {
    file: 'workflows/stack-check.ts',
    source: `import { createActivities } from '../activities';\nexport const x = createActivities;\n`,
  },
  activityType: {
    file: 'workflows/stack-check.ts',
    source: `import type { Activities } from '../activities';\nexport type X = Activities;\n`,
  },
  floating: {
    file: 'workflows/stack-check.ts',
    source: `import { sleep } from '@temporalio/workflow';\nexport function f(): void {\n  sleep(1);\n}\n`,
  },
  outsideWorkflows: {
    file: 'activities/stack-check.ts',
    source: `import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`,
  },
};
let messages: Record<keyof typeof probes, string[]>;

beforeAll(() => {
  const res = spawnSync(process.execPath, [path.join(__dirname, '..', 'fixtures', 'lint-probes.mjs')], {
    cwd: root,
    input: JSON.stringify(Object.values(probes)),
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (res.status !== 0) throw new Error(`lint probes failed: ${res.stderr}`);
  const results = JSON.parse(res.stdout) as string[][];
  messages = Object.fromEntries(Object.keys(probes).map((k, i) => [k, results[i]!])) as typeof messages;
});

test('workflow code may not import Node built-ins', () => {
  expect(messages.builtin).toEqual([expect.stringMatching(/no-restricted-imports: .*node:fs.*no Node built-ins/)]);
});

test('workflow code may import activities for their types only', () => {
  expect(messages.activityValue).toEqual([expect.stringMatching(/no-restricted-imports: .*for their types only/)]);
  expect(messages.activityType).toEqual([]);
});

test('floating promises are errors', () => {
  expect(messages.floating).toEqual([expect.stringMatching(/^@typescript-eslint\/no-floating-promises/)]);
});

test('the same imports are fine outside workflows/', () => {
  expect(messages.outsideWorkflows).toEqual([]);
});
