import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SessionServerStats } from '../types.js';

/**
 * The HTTP side of the server: plain requests (the health endpoint), listening, and the URL
 * clients dial.
 *
 * @module
 */

/**
 * Path of the plain-HTTP health endpoint, answered with {@link SessionServerStats} as JSON.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const stats = await (await fetch(`http://127.0.0.1:${server.port}${HEALTH_PATH}`)).json();
 * ```
 */
export const HEALTH_PATH = '/health';

/**
 * Answers plain HTTP requests (WebSocket upgrades never reach it): `GET /health` → 200 with the
 * stats as JSON; any other GET → 426 (this is a WebSocket endpoint); other methods → 404.
 *
 * @param stats - reads the server's counters
 */
export function createHttpHandler(
  stats: () => SessionServerStats,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    if (isRead && path === HEALTH_PATH) {
      const body = JSON.stringify(stats());
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (isRead) {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket', connection: 'Upgrade' });
      res.end('this is a WebSocket endpoint: connect with a WebSocket client\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
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
