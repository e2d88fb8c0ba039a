import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionServer, type AttachedSessionServer } from '../../../../src/server/index.js';
import { SECRET, startServer } from '../helpers.js';
import {
  closeAndExpectAppAlive,
  closeServer,
  openSessionAndPublish,
  portOf,
  selfSignedCertificate,
  upgradeStatus,
} from './support.js';

const auth = { secret: SECRET };
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function listening<T extends Server>(server: T): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => closeServer(server));
  return server;
}

function plainApp(): Server {
  return createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('app\n');
  });
}

describe('over TLS (an https.Server with a certificate the test generates)', () => {
  it('speaks the protocol through wss:// and leaves the https routes working', async () => {
    const { key, cert } = await selfSignedCertificate();
    const https = await listening(
      createHttpsServer({ key, cert }, (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('secure app\n');
      }),
    );
    const sessions = await createSessionServer({ server: https, path: '/session', auth, logger: false });
    const client = await openSessionAndPublish(`wss://127.0.0.1:${portOf(https)}/session`, { ca: cert });
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet(`https://127.0.0.1:${portOf(https)}/`, { ca: cert }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('secure app\n');
    // A client that does not trust the certificate never gets a socket.
    await expect(upgradeStatus(`wss://127.0.0.1:${portOf(https)}/session`)).rejects.toThrow(/self-signed|certificate/);
    await closeAndExpectAppAlive(sessions, client, https);
  });
});

describe('attached to a server with other upgrade listeners', () => {
  it('leaves upgrades on other paths to them, and answers 404 only when nobody else listens', async () => {
    const http = await listening(plainApp());
    const echo = new WebSocketServer({ noServer: true });
    echo.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data.toString()}`)));
    const sessions = await createSessionServer({ server: http, path: '/session', auth, logger: false });
    const other = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/echo') echo.handleUpgrade(req, socket, head, (ws) => echo.emit('connection', ws, req));
    };
    http.on('upgrade', other);
    cleanup.push(async () => void echo.close());

    const session = await openSessionAndPublish(`ws://127.0.0.1:${portOf(http)}/session`);
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(http)}/echo`);
    const answer = await new Promise<string>((resolve) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', (data) => resolve(data.toString()));
    });
    expect(answer).toBe('echo ping');
    ws.close();
    expect(sessions.stats()).toMatchObject({ sockets: 1, upgradesRejected: {} });

    http.off('upgrade', other);
    expect(await upgradeStatus(`ws://127.0.0.1:${portOf(http)}/echo`)).toBe(404);
    await closeAndExpectAppAlive(sessions, session, http);
    expect(http.listenerCount('upgrade')).toBe(0);
  });
});

describe('noServer: true', () => {
  it('takes the upgrades the app hands to handleUpgrade, after asking shouldHandle', async () => {
    const sessions: AttachedSessionServer = await createSessionServer({
      noServer: true,
      path: '/session',
      auth,
      logger: false,
    });
    const http = await listening(plainApp());
    const refused: string[] = [];
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (sessions.shouldHandle(req)) return sessions.handleUpgrade(req, socket, head);
      refused.push(req.url ?? '');
      socket.destroy();
    });
    const client = await openSessionAndPublish(`ws://127.0.0.1:${portOf(http)}/session?x=1`);
    await expect(upgradeStatus(`ws://127.0.0.1:${portOf(http)}/other`)).rejects.toThrow();
    expect(refused).toEqual(['/other']);
    await closeAndExpectAppAlive(sessions, client, http);
    // After close(), an upgrade handed over anyway is answered 503.
    expect(await upgradeStatus(`ws://127.0.0.1:${portOf(http)}/session`)).toBe(503);
  });

  it('without a path accepts every path handed to it', async () => {
    const sessions = await createSessionServer({ noServer: true, auth, logger: false });
    const http = await listening(plainApp());
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      sessions.handleUpgrade(req, socket, head),
    );
    const client = await openSessionAndPublish(`ws://127.0.0.1:${portOf(http)}/any/where`);
    await closeAndExpectAppAlive(sessions, client, http);
  });
});

describe('allowedOrigins', () => {
  it('refuses upgrades from other origins with 403, counted; allows listed origins, patterns and non-browser clients', async () => {
    const server = await startServer({
      path: '/session',
      allowedOrigins: ['https://app.example.com', /^https:\/\/[a-z0-9-]+\.preview\.example\.com$/],
    });
    cleanup.push(() => server.close());
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/session`);
    const status = (origin?: string) => upgradeStatus(server.url, origin === undefined ? {} : { origin });
    expect(await status('https://app.example.com')).toBe(101);
    expect(await status('https://APP.example.com')).toBe(101);
    expect(await status('https://pr1.preview.example.com')).toBe(101);
    expect(await status()).toBe(101);
    expect(await status('https://evil.example')).toBe(403);
    expect(await status('https://app.example.com.evil.example')).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/other`, { origin: 'https://app.example.com' })).toBe(404);
    expect(server.stats().upgradesRejected).toEqual({ origin: 2, path: 1 });
    const metrics = await server.metrics();
    expect(metrics).toContain('shared_session_upgrades_rejected_total{reason="origin"} 2');
    expect(metrics).toContain('shared_session_upgrades_rejected_total{reason="path"} 1');
  });
});

describe('attach options', () => {
  it.each([
    ['server without path', () => ({ server: plainApp() })],
    ['server and port', () => ({ server: plainApp(), path: '/s', port: 0 })],
    ['server and noServer', () => ({ server: plainApp(), path: '/s', noServer: true })],
    ['noServer and host', () => ({ noServer: true, host: '127.0.0.1' })],
    ['a relative path', () => ({ noServer: true, path: 'session' })],
    ['a path with a query', () => ({ noServer: true, path: '/session?x' })],
    ['an origin with a path', () => ({ noServer: true, allowedOrigins: ['https://app.example.com/'] })],
    ['an origin that is no URL', () => ({ noServer: true, allowedOrigins: ['app.example.com'] })],
    ['a server that is no server', () => ({ server: {} as Server, path: '/s' })],
  ])('refuses %s with a TypeError', async (_, options) => {
    await expect(createSessionServer({ auth, logger: false, ...options() })).rejects.toThrow(TypeError);
  });
});
