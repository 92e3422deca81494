import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidEnvironment } from './env';

// The environment of `ct alerts serve`, the receiver Cloud Monitoring's webhook channel posts to
// (docs/alert-triggers.md): where it listens, its token, its TLS files.

const Address = z
  .string()
  .regex(/^[^:/\s]+:[0-9]{1,5}$/, 'must be host:port, e.g. 0.0.0.0:8090')
  .refine((a) => Number(a.split(':')[1]) <= 65_535, 'the port is at most 65535');
const File = z.string().min(1);

/** The receiver's environment: where it listens, its token, its TLS files. Every problem listed at once. */
export function loadAlertReceiverEnv(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  const get = (k: string) => (runtimeEnv[k] === '' ? undefined : runtimeEnv[k]);
  const parsed = z
    .object({
      CT_ALERTS_ADDRESS: Address.default('0.0.0.0:8090'),
      /** The shared secret: the webhook's basic-auth password, `?token=` in its URL, or a Bearer token. */
      CT_ALERTS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
      /** A file holding the token (a mounted secret); its surrounding whitespace is dropped. */
      CT_ALERTS_TOKEN_FILE: File.optional(),
      /** Incidents whose policy names no ct_environment label are for this environment. */
      CT_ALERTS_ENVIRONMENT: z
        .string()
        .regex(/^[a-z][a-z0-9-]*$/, 'must be an environment name')
        .optional(),
      /** HTTPS with this certificate chain and key (PEM); plain HTTP behind a TLS load balancer when unset. */
      CT_ALERTS_TLS_CERT_PATH: File.optional(),
      CT_ALERTS_TLS_KEY_PATH: File.optional(),
    })
    .superRefine((e, ctx) => {
      if (!e.CT_ALERTS_TOKEN === !e.CT_ALERTS_TOKEN_FILE)
        ctx.addIssue({
          code: 'custom',
          path: ['CT_ALERTS_TOKEN'],
          message:
            'give the token in CT_ALERTS_TOKEN or CT_ALERTS_TOKEN_FILE (one of them): the receiver never runs open',
        });
      if (!e.CT_ALERTS_TLS_CERT_PATH !== !e.CT_ALERTS_TLS_KEY_PATH)
        ctx.addIssue({
          code: 'custom',
          path: ['CT_ALERTS_TLS_KEY_PATH'],
          message:
            'a certificate and its key go together: set CT_ALERTS_TLS_CERT_PATH and CT_ALERTS_TLS_KEY_PATH, or neither',
        });
    })
    .safeParse(
      Object.fromEntries(
        [
          'CT_ALERTS_ADDRESS',
          'CT_ALERTS_TOKEN',
          'CT_ALERTS_TOKEN_FILE',
          'CT_ALERTS_ENVIRONMENT',
          'CT_ALERTS_TLS_CERT_PATH',
          'CT_ALERTS_TLS_KEY_PATH',
        ].map((k) => [k, get(k)]),
      ),
    );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.map(String).join('.')}: ${i.message}`);
    throw new InvalidEnvironment(`invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const colon = e.CT_ALERTS_ADDRESS.lastIndexOf(':');
  return {
    host: e.CT_ALERTS_ADDRESS.slice(0, colon),
    port: Number(e.CT_ALERTS_ADDRESS.slice(colon + 1)),
    token: e.CT_ALERTS_TOKEN ?? readSecret(e.CT_ALERTS_TOKEN_FILE!),
    environment: e.CT_ALERTS_ENVIRONMENT,
    tls: e.CT_ALERTS_TLS_CERT_PATH
      ? { cert: readSecret(e.CT_ALERTS_TLS_CERT_PATH, false), key: readSecret(e.CT_ALERTS_TLS_KEY_PATH!, false) }
      : undefined,
  };
}
export type AlertReceiverSettings = ReturnType<typeof loadAlertReceiverEnv>;

function readSecret(file: string, trim = true): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidEnvironment(`invalid environment: cannot read ${file}: ${(err as Error).message}`);
  }
  const value = trim ? text.trim() : text;
  if (trim && value.length < 16)
    throw new InvalidEnvironment(
      `invalid environment:\n  CT_ALERTS_TOKEN_FILE: ${file} holds fewer than 16 characters`,
    );
  return value;
}
