import http from 'node:http';
import { attachConnectProxy } from './connect-proxy';
import {
  callRoutes,
  endpointRoutes,
  faultRoutes,
  healthRoutes,
  HttpError,
  jobRoutes,
  modelRoutes,
  ruleRoutes,
  settingsRoutes,
  type Route,
  type RouteTable,
} from './control-routes';
import { RpcError } from './errors';
import type { JobEngine } from './lifecycle';
import type { TokenIssuer } from './oauth';
import type { CallPolicy } from './policy';
import type { Store } from './store';

// Inspection and control on a side port (HTTP JSON): what tests and people use to see what the
// emulator was asked and to script how Vertex behaves. Not part of the Vertex API.

export interface ControlApiOptions {
  host?: string;
  port: number;
  store: Store;
  engine: JobEngine;
  policy: CallPolicy;
  grpcPort: number;
  /** With TLS: the emulator's TLS port, for /health and the CONNECT proxy to Vertex's host names. */
  tlsPort?: number;
  /** Serves POST /token (OAuth2: JWT-bearer and refresh-token grants) when given. */
  tokens?: TokenIssuer;
  /** The RPCs the gRPC server serves, listed by GET /methods. */
  methods?: string[];
}

const json = { 'content-type': 'application/json' };

/** OAuth2 speaks form-encoded requests and its own error body (RFC 6749 §5), not this API's JSON. */
function answerTokenRequest(tokens: TokenIssuer, raw: string, res: http.ServerResponse): void {
  const answer = tokens.grant(Object.fromEntries(new URLSearchParams(raw)));
  res.writeHead(answer.status, { ...json, 'cache-control': 'no-store' }).end(JSON.stringify(answer.body));
}

async function answerRoute(
  route: Route | undefined,
  req: http.IncomingMessage,
  url: URL,
  raw: string,
  res: http.ServerResponse,
) {
  try {
    if (!route) throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    const body: unknown = raw ? JSON.parse(raw) : {};
    const out = await route(body, url.searchParams);
    res.writeHead(200, json).end(JSON.stringify(out));
  } catch (err) {
    const code =
      err instanceof HttpError ? err.status : err instanceof RpcError || err instanceof SyntaxError ? 400 : 500;
    res.writeHead(code, json).end(JSON.stringify({ error: (err as Error).message }));
  }
}

/** Reads the whole body, then answers from the route table (or the token endpoint). */
function handleRequest(routes: RouteTable, tokens: TokenIssuer | undefined): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[`${req.method} ${url.pathname}`];
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (tokens && req.method === 'POST' && url.pathname === '/token') return answerTokenRequest(tokens, raw, res);
      void answerRoute(route, req, url, raw, res);
    });
  };
}

export function startControlApi(opts: ControlApiOptions) {
  const { store, engine, policy } = opts;
  const routes: RouteTable = {
    ...healthRoutes(opts, opts.methods),
    ...callRoutes(store),
    ...jobRoutes(store, engine),
    ...ruleRoutes(store),
    ...faultRoutes(store),
    ...settingsRoutes(store, policy),
    ...modelRoutes(store),
    ...endpointRoutes(store),
  };
  const server = http.createServer(handleRequest(routes, opts.tokens));
  // Clients keep connections alive (fetch does, for a Keep-Alive timeout minus a second): with
  // Node's default 5 s, a request sent as the server closes the idle socket fails with "other side
  // closed" on a loaded machine. Idle connections outlive any gap between a test's calls instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  if (opts.tlsPort !== undefined) {
    attachConnectProxy(server, opts.tlsPort, (d) => {
      if (!d.allowed) console.warn(`vertex-ai emulator: proxy refused CONNECT ${d.target}`);
    });
  }
  return new Promise<http.Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server));
  });
}
