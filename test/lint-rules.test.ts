// The determinism rules are what keep workflow code replayable; prove lint really enforces them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..');

// The probe source is linted as if it were an existing file's content, so typed rules can run.
function lintWorkflowSource(source: string, file = 'workflows/stack-check.ts'): string[] {
  const res = spawnSync(path.join(root, 'node_modules', '.bin', 'eslint'), ['--stdin', '--stdin-filename', file, '--format', 'json'], {
    cwd: root,
    input: source,
    encoding: 'utf8',
  });
  const [report] = JSON.parse(res.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return report!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

test('workflow code may not import Node built-ins', () => {
  const messages = lintWorkflowSource(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`);
  expect(messages).toEqual([expect.stringMatching(/no-restricted-imports: .*node:fs.*no Node built-ins/)]);
});

test('workflow code may import activities for their types only', () => {
  expect(lintWorkflowSource(`import { createActivities } from '../activities';\nexport const x = createActivities;\n`)).toEqual([
    expect.stringMatching(/no-restricted-imports: .*for their types only/),
  ]);
  expect(lintWorkflowSource(`import type { Activities } from '../activities';\nexport type X = Activities;\n`)).toEqual([]);
});

test('floating promises are errors', () => {
  const messages = lintWorkflowSource(`import { sleep } from '@temporalio/workflow';\nexport function f(): void {\n  sleep(1);\n}\n`);
  expect(messages).toEqual([expect.stringMatching(/^@typescript-eslint\/no-floating-promises/)]);
});

test('the same imports are fine outside workflows/', () => {
  expect(lintWorkflowSource(`import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n`, 'activities/stack-check.ts')).toEqual([]);
});
