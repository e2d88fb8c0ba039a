import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { OperationsHandler } from '../operations/endpoints.js';

/**
 * The HTTP side of the server's own listener: plain requests (the operations endpoints), listening,
 * and the URL clients dial.
 *
 * @module
 */

/**
 * Answers the plain HTTP requests of the server's own listener (WebSocket upgrades never reach
 * it): the operations endpoints (`GET /health`, `GET /metrics`); any other GET → 426 (this is a
 * WebSocket endpoint); other methods → 404.
 *
 * @param operations - serves the operations endpoints, calls `next` for anything else
 */
export function createHttpHandler(operations: OperationsHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) =>
    operations(req, res, () => {
      if (req.method === 'GET' || req.method === 'HEAD') {
        res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
        res.end('this is a WebSocket endpoint: connect with a WebSocket client\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    });
}

/**
 * Listens on `port` and `host`; rejects with the listen error (e.g. `EADDRINUSE`).
 *
 * @param http - a server that is not listening yet
 * @param port - TCP port, `0` for a free one
 * @param host - interface to bind
 * @returns the port actually bound
 */
export async function listen(http: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}

/**
 * The WebSocket URL of a server bound to `host`: wildcard binds are reached on loopback, IPv6
 * literals get brackets.
 *
 * @param host - the bound interface
 * @param port - the bound port
 */
export function webSocketUrl(host: string, port: number): string {
  const reachable =
    host === '0.0.0.0'
      ? '127.0.0.1'
      : host === '::' || host === '[::]'
        ? '[::1]'
        : host.includes(':') && !host.startsWith('[')
          ? `[${host}]`
          : host;
  return `ws://${reachable}:${port}`;
}
