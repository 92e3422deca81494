// The emulator through Google's Python client (aiplatform_v1 from google-cloud-aiplatform, in the
// venv scripts/vertex-python/setup.sh builds): a second implementation of the wire format checking
// the first. pytest runs test/vertex-emulator/python beside an emulator and fake-gcs-server of its
// own (stack/sandbox.ts), in a network namespace with only loopback, so a connection meant
// for Google (metadata server, token endpoint, region host) fails at once instead of leaving.
import { runCommand } from '../helpers/run-command';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testStack } from '../setup/test-stack';

jest.setTimeout(180_000);

const root = path.join(__dirname, '..', '..');
const python = path.join(root, '.tools', 'vertex-python-venv', 'bin', 'python');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

/** Whether this process may make a network namespace (root, or CAP_SYS_ADMIN). */
const canUnshare = () => spawnSync('unshare', ['--net', 'true']).status === 0;

function run(command: string, args: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(PYTHON|GOOGLE_|GRPC_|grpc_proxy|https?_proxy)/i.test(k)),
  );
  return runCommand(command, args, { env: { ...env, PYTHONDONTWRITEBYTECODE: '1' } });
}

test('Google’s Python client drives every emulator method, over plaintext and TLS, with nothing leaving the machine', async () => {
  if (!existsSync(python)) throw new Error(`no venv at ${python}: run \`bash scripts/vertex-python/setup.sh\` first`);
  const netns = canUnshare();
  if (!netns && process.env.CI)
    throw new Error(
      'CI runs this suite in a network namespace (unshare --net), which this process may not create: run as root',
    );
  if (!netns)
    console.warn(
      'python-client: no network namespace (not root?); running on the host network with the metadata variables only',
    );

  const junit = path.join(testStack().CT_TEST_TMP_DIR, `python-client-${process.pid}.xml`);
  const pytest = [
    python,
    '-m',
    'pytest',
    '-p',
    'no:cacheprovider',
    '-q',
    '-rfEs',
    `--junitxml=${junit}`,
    'test/vertex-emulator/python',
  ];
  const result = await run(tsx, ['stack/sandbox.ts', ...(netns ? ['--netns'] : []), '--', ...pytest]);
  if (result.code !== 0)
    throw new Error(`pytest exited ${result.code}:\n${result.output.split('\n').slice(-80).join('\n')}`);

  // pytest's own counts, from its JUnit report: every test ran (none skipped in the namespace).
  const suite = /<testsuite [^>]*>/.exec(readFileSync(junit, 'utf8'))![0];
  const count = (attr: string) => Number(new RegExp(`${attr}="(\\d+)"`).exec(suite)![1]);
  expect({ failures: count('failures'), errors: count('errors'), skipped: count('skipped') }).toEqual({
    failures: 0,
    errors: 0,
    skipped: netns ? 0 : 1,
  });
  expect(count('tests')).toBeGreaterThanOrEqual(20);
  // Every RPC the emulator serves was called from Python (the sandbox prints the emulator's counts).
  const calls = JSON.parse(/^sandbox: calls by method (.*)$/m.exec(result.output)![1]!) as Record<string, number>;
  expect(Object.keys(calls).length).toBeGreaterThanOrEqual(18);
  expect(Object.entries(calls).filter(([, n]) => n === 0)).toEqual([]);
});
