import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTlsMaterial } from '../../emulators/vertex-ai/tls';

test('the local CA signs a server certificate for loopback and Vertex host names, and is kept across restarts', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vertex-tls-'));
  const first = await ensureTlsMaterial(dir);
  const ca = new X509Certificate(first.caCert);
  const server = new X509Certificate(first.serverCert);
  expect(ca.ca).toBe(true);
  expect(server.ca).toBe(false);
  expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
  for (const name of ['localhost', 'us-central1-aiplatform.googleapis.com', 'aiplatform.googleapis.com'])
    expect(server.checkHost(name)).toBeDefined();
  expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(server.checkHost('example.com')).toBeUndefined();

  // A restart reuses the CA a developer already trusts; a broken server certificate is made again under a new CA.
  expect((await ensureTlsMaterial(dir)).caCert.equals(first.caCert)).toBe(true);
  rmSync(path.join(dir, 'server.pem'));
  const renewed = await ensureTlsMaterial(dir);
  expect(new X509Certificate(renewed.serverCert).checkIssued(new X509Certificate(renewed.caCert))).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});
