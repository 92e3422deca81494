import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isGrpcServiceError, ServiceError, type Client } from '@temporalio/client';
import type { AlertReceiverSettings } from '../../config/alert-receiver-env';
import type { PipelineConfig } from '../../config/pipeline-config';
import { presentedToken, tokenMatches } from './auth';
import { MonitoringNotification, notificationProblems } from './incident';
import { AlertRefused, requestRetrain } from './retrain';

// The HTTP(S) endpoint a Cloud Monitoring webhook channel points at (`ct alerts serve`). Every
// refusal has its own status and a JSON body saying why, and starts nothing: 401 no or a wrong
// token, 400 a body that is not the documented notification (the field named), 422 labels that
// name no run the config has, 413 a body over 256 KiB, 503 Temporal not answering (send it again).

export const INCIDENTS_PATH = '/incidents';
const MAX_BODY_BYTES = 256 * 1024;

export interface AlertReceiverDeps {
  config: PipelineConfig;
  /** A client of the namespace an environment's runs live in. */
  clientFor: (namespace: string) => Client;
  settings: Pick<AlertReceiverSettings, 'host' | 'port' | 'token' | 'environment' | 'tls'>;
  /** One line per request: what came in and what was done. */
  log?: (level: 'INFO' | 'ERROR', message: string) => void;
}

export interface AlertReceiver {
  /** Where to point the webhook channel (add `?token=…`, or use basic auth with the token as password). */
  url: string;
  close: () => Promise<void>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function startAlertReceiver(deps: AlertReceiverDeps): Promise<AlertReceiver> {
  const { settings } = deps;
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(deps, req, res);
  const server = settings.tls ? https.createServer({ ...settings.tls }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
  return {
    url: `${settings.tls ? 'https' : 'http'}://${host}:${port}${INCIDENTS_PATH}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(deps: AlertReceiverDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://receiver');
  try {
    if (url.pathname === '/healthz' && req.method === 'GET') return send(res, 200, { ok: true });
    if (url.pathname !== INCIDENTS_PATH)
      throw new Refusal(404, `no such endpoint ${url.pathname}; Cloud Monitoring posts to ${INCIDENTS_PATH}`);
    if (req.method !== 'POST') throw new Refusal(405, `${INCIDENTS_PATH} takes POST, not ${req.method}`);
    authenticate(req, url, deps.settings.token);
    const notification = parseNotification(await readBody(req));
    const answer = await requestRetrain(
      deps.clientFor,
      deps.config,
      notification.incident,
      deps.settings.environment,
    ).catch((err: unknown) => {
      if (err instanceof AlertRefused)
        throw new Refusal(422, err.message, { incidentId: notification.incident.incident_id });
      if (err instanceof ServiceError || isGrpcServiceError(err))
        throw new Refusal(503, `Temporal did not answer; nothing was started, send the incident again: ${String(err)}`);
      throw err;
    });
    deps.log?.('INFO', `incident ${answer.incidentId} (${answer.state}): ${answer.outcome}: ${answer.reason}`);
    send(res, 200, answer);
  } catch (err) {
    if (err instanceof Refusal) {
      deps.log?.('INFO', `${req.method} ${url.pathname} refused ${err.status}: ${err.message}`);
      if (err.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="ct-alerts", charset="UTF-8"');
      if (err.status === 405) res.setHeader('Allow', 'POST');
      if (err.status === 503) res.setHeader('Retry-After', '30');
      return send(res, err.status, { error: err.message, ...err.extra });
    }
    deps.log?.('ERROR', `${req.method} ${url.pathname} failed: ${err instanceof Error ? err.stack : String(err)}`);
    send(res, 500, { error: `unexpected error: ${err instanceof Error ? err.message : String(err)}` });
  }
}

function authenticate(req: IncomingMessage, url: URL, token: string): void {
  const presented = presentedToken(req, url);
  if (!presented)
    throw new Refusal(
      401,
      'no token: use basic auth with the token as the password, ?token=… in the URL, or Authorization: Bearer',
    );
  if (!tokenMatches(presented.token, token))
    throw new Refusal(401, `the token (${presented.how}) is not this receiver's`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseNotification(body: string): MonitoringNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new Refusal(400, `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = MonitoringNotification.safeParse(json);
  if (!parsed.success) {
    const { fields, message } = notificationProblems(parsed.error);
    throw new Refusal(400, `not a Cloud Monitoring incident notification (schema 1.2): ${message}`, { fields });
  }
  return parsed.data;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
