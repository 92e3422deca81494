// The Airflow package's own pytest tests (integrations/airflow/tests), run with the Airflow venv's
// Python: the hook and the operator against a fake Temporal client, and the partition rule by
// example. No server is needed; test/integrations/airflow.test.ts runs the real thing end to end.
import { runCommand } from '../helpers/run-command';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { testStack } from '../setup/test-stack';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..');
const python = path.join(root, '.tools', 'airflow-venv', 'bin', 'python');

test('the Airflow package’s pytest tests pass in the Airflow venv, none skipped', async () => {
  if (!existsSync(python)) throw new Error(`no Airflow venv at ${python}: run \`bash scripts/airflow/setup.sh\` first`);
  const dir = await mkdtemp(path.join(testStack().CT_TEST_TMP_DIR, 'airflow-package-'));
  try {
    // Only the settings chosen here: none of the developer's AIRFLOW_*, TEMPORAL_* or PYTHON* variables.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(AIRFLOW|TEMPORAL_|CT_TASK_QUEUE|PYTHON)/.test(k)),
    );
    const env = { ...inherited, AIRFLOW_HOME: path.join(dir, 'home'), PYTHONDONTWRITEBYTECODE: '1' };
    const junit = path.join(dir, 'junit.xml');
    const result = await runCommand(
      python,
      ['-m', 'pytest', 'integrations/airflow/tests', '-q', '-rfEs', `--junitxml=${junit}`],
      { env },
    );
    if (result.code !== 0)
      throw new Error(`pytest exited ${result.code}:\n${result.output.split('\n').slice(-80).join('\n')}`);

    // pytest's counts, from its summary line and from its JUnit report, which must agree.
    const summary = /^(\d+) passed(?:, \d+ warnings?)? in [\d.]+s/m.exec(result.output);
    expect(summary).not.toBeNull();
    const suite = /<testsuite [^>]*>/.exec(await readFile(junit, 'utf8'))![0];
    const count = (attr: string) => Number(new RegExp(` ${attr}="(\\d+)"`).exec(suite)![1]);
    expect({
      tests: count('tests'),
      failures: count('failures'),
      errors: count('errors'),
      skipped: count('skipped'),
    }).toEqual({ tests: Number(summary![1]), failures: 0, errors: 0, skipped: 0 });
    expect(count('tests')).toBeGreaterThanOrEqual(60);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
