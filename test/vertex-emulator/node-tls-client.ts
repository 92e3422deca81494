// The Node recipe in docs/vertex-emulator.md, as a process of its own (run by node-tls.test.ts under
// stack/sandbox.ts): @google-cloud/aiplatform over TLS to the emulator with nothing but
// configuration — GRPC_DEFAULT_SSL_ROOTS_FILE_PATH trusts the local CA, GOOGLE_APPLICATION_CREDENTIALS
// names a service-account key file. Prints what the emulator saw, as JSON, for the test.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { v1 } from '@google-cloud/aiplatform';

async function main(): Promise<void> {
  const env = process.env;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = path.join(env.SANDBOX_TMP!, 'node-service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'ct-node-tls',
      private_key_id: 'emulator-node',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'trainer@ct-node-tls.iam.gserviceaccount.com',
      client_id: '100000000000000000003',
      token_uri: env.SANDBOX_VERTEX_TOKEN_URI,
    }),
  );
  process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
  // No sslCreds: gax then combines TLS (default roots, which the variable names) with the key's credentials.
  const models = new v1.ModelServiceClient({ apiEndpoint: 'localhost', port: Number(env.SANDBOX_VERTEX_TLS_PORT) });
  try {
    const [op] = await models.uploadModel({
      parent: 'projects/ct-node-tls/locations/us-central1',
      model: { displayName: 'node-tls', containerSpec: { imageUri: 'img:1' } },
    });
    const [res] = await op.promise();
    const [model] = await models.getModel({ name: res.model! });
    const calls = (await (await fetch(`${env.SANDBOX_VERTEX_CONTROL_URL}/calls`)).json()) as {
      method: string;
      auth: string;
    }[];
    console.log(
      JSON.stringify({
        versionId: model.versionId,
        calls: [...new Set(calls.map((c) => `${c.method} ${c.auth}`))].sort(),
      }),
    );
  } finally {
    await models.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
