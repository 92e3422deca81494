// Airflow's own Google provider (apache-airflow-providers-google, in the venv
// scripts/airflow/setup.sh builds) against the emulator, unchanged: `airflow dags test` of a DAG
// whose RunPipelineJobOperator submits the compiled KFP pipeline and waits for it, whose
// UploadModelOperator registers a model and GetModelOperator reads it back. Its hooks build
// "us-central1-aiplatform.googleapis.com:443" themselves, so they reach the emulator the way a
// developer's Airflow would: grpc_proxy (the emulator's CONNECT proxy), TLS verified against the
// local CA, a service-account key file from the connection. All in a loopback-only network
// namespace: a call that tried to leave would fail the DAG.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

jest.setTimeout(240_000);

const root = path.join(__dirname, '..', '..');
const airflowBin = path.join(root, '.tools', 'airflow-venv', 'bin', 'airflow');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

test('RunPipelineJobOperator, UploadModelOperator and GetModelOperator run a DAG against the emulator over TLS', async () => {
  if (!existsSync(airflowBin))
    throw new Error(`Airflow is not installed at ${airflowBin}: run \`bash scripts/airflow/setup.sh\` first`);
  const netns = spawnSync('unshare', ['--net', 'true']).status === 0;
  if (!netns && process.env.CI)
    throw new Error(
      'CI runs this DAG in a network namespace (unshare --net), which this process may not create: run as root',
    );

  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AIRFLOW|PYTHON|GOOGLE_|GRPC_|grpc_proxy|https?_proxy)/i.test(k)),
  );
  const args = [
    'stack/sandbox.ts',
    ...(netns ? ['--netns'] : []),
    '--',
    'test/vertex-emulator/airflow/run-dag.sh',
    '2026-11-21',
  ];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(tsx, args, { cwd: root, env: inherited, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, output: out }));
  });
  if (code !== 0) throw new Error(`the DAG run failed (exit ${code}):\n${output.split('\n').slice(-60).join('\n')}`);

  expect(output).toMatch(/DagRun Finished: dag_id=vertex_provider_example, .*state=success/);
  expect(output).toMatch(/Pipeline job was created\. Job id: ct-training-example/);
  const model = /Model was uploaded\. Model ID: (\d+)/.exec(output)?.[1];
  expect(model).toMatch(/^\d{19}$/);
  expect(output).toContain(`Model found. Model ID: ${model}`);
  // Every call reached the emulator through the hooks' own clients, signed with the connection's
  // key, and succeeded: the pipeline was created once and polled to its end, the upload's
  // operation polled to done.
  const calls = JSON.parse(/^emulator calls: (.*)$/m.exec(output)![1]!) as string[];
  expect(calls).toEqual([
    'CreatePipelineJob self-signed-jwt OK',
    'GetModel self-signed-jwt OK',
    'GetOperation self-signed-jwt OK',
    'GetPipelineJob self-signed-jwt OK',
    'UploadModel self-signed-jwt OK',
  ]);
});
