// The production worker (compiled by the global setup) started the way an operator starts it.
import { spawn } from 'node:child_process';
import { freePort } from '../scripts/stack/process';
import { repoRoot } from '../scripts/stack/tools';
import { workerCommand } from '../scripts/stack/worker-command';
import { testConfigPath } from './helpers/temporal';

test('a Temporal the worker cannot reach is named with how to point elsewhere; exit 1, no stack trace', async () => {
  const nowhere = `127.0.0.1:${await freePort()}`;
  const { command, args } = workerCommand('compiled');
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      TEMPORAL_ADDRESS: nowhere,
      CT_CONFIG: testConfigPath,
      METADATA_SERVER_DETECTION: 'none',
    },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect(code).toBe(1);
  // Not on a terminal: one JSON object per line, the failure as one ERROR line.
  const lines = stderr
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: string; message: string });
  const errors = lines.filter((l) => l.level === 'ERROR');
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(
    new RegExp(`^worker: cannot reach Temporal at ${nowhere}: .*Is the server up\\? Point TEMPORAL_ADDRESS`),
  );
  expect(stderr).not.toMatch(/\\n\s+at /);
});
