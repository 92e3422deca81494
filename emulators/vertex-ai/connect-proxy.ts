import type { IncomingMessage, Server } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

// An HTTP CONNECT proxy that sends Vertex's own host names to the emulator's TLS port. Some
// clients build the endpoint themselves (Airflow's Vertex hooks use
// "{region}-aiplatform.googleapis.com:443" whatever the connection says); gRPC honours the
// grpc_proxy variable, tunnels through here, and then verifies the emulator's certificate for that
// name end to end (it is valid for *.googleapis.com, signed by the local CA). Every other target is
// refused, so nothing meant for elsewhere leaves the machine through it.

const VERTEX_HOST = /^([a-z0-9-]+-)?aiplatform\.googleapis\.com$/;

export interface ProxyDecision {
  target: string;
  allowed: boolean;
}

export function attachConnectProxy(
  server: Server,
  tlsPort: number,
  onDecision: (d: ProxyDecision) => void = () => undefined,
): void {
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    const [host, port] = target.split(/:(?=\d+$)/);
    const allowed = !!host && VERTEX_HOST.test(host) && port === '443';
    onDecision({ target, allowed });
    if (!allowed) {
      client.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\nthe Vertex AI emulator's proxy only tunnels to *aiplatform.googleapis.com:443, not ${target}\n`,
      );
      return;
    }
    const upstream = net.connect(tlsPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
  });
}
