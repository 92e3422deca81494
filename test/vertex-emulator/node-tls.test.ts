// Node's client configured the ordinary way reaches the emulator over TLS (the recipe in docs/vertex-emulator.md),
// and a client that does not trust the local CA is refused: the certificate is really checked.
import { runCommand } from '../helpers/run-command';
import path from 'node:path';

jest.setTimeout(120_000);

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function sandboxed(rootsFile: 'ca' | 'system') {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(GOOGLE_|GRPC_|grpc_proxy|https?_proxy)/i.test(k)),
  );
  const roots = rootsFile === 'ca' ? '$SANDBOX_VERTEX_CA' : '/etc/ssl/certs/ca-certificates.crt';
  const script = `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=${roots} exec "$0" test/vertex-emulator/node-tls-client.ts`;
  return runCommand(tsx, ['stack/sandbox.ts', '--', 'sh', '-c', script, tsx], { env: inherited });
}

test('@google-cloud/aiplatform over TLS with a key file: the emulator sees a self-signed JWT', async () => {
  const { code, output } = await sandboxed('ca');
  if (code !== 0) throw new Error(`the Node client failed (exit ${code}):\n${output}`);
  const seen = JSON.parse(output.split('\n').find((l) => l.startsWith('{"versionId"'))!) as {
    versionId: string;
    calls: string[];
  };
  // Node's google-auth-library never reads a key file's token_uri: with no user scopes it signs its own JWT.
  expect(seen).toEqual({
    versionId: '1',
    calls: ['GetModel self-signed-jwt', 'GetOperation self-signed-jwt', 'UploadModel self-signed-jwt'],
  });
});

test('a client that trusts only the system CAs is refused by the TLS handshake', async () => {
  const { code, output } = await sandboxed('system');
  expect(code).not.toBe(0);
  expect(output).toMatch(/UNAVAILABLE.*(certificate|verify|handshake)/i);
});
