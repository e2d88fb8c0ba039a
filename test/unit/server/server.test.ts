import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import pino from 'pino';
import {
  createConsoleLogger,
  createMemorySessionRegistry,
  createSessionServer,
  type SessionRegistry,
  type SessionServer,
} from '../../../src/server/index.js';
import { connectSession, mint, SECRET, startServer, TestClient, waitFor } from './helpers.js';

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createSessionServer', () => {
  it('listens on a free port with port 0 and reports a ws:// URL on the loopback host', async () => {
    server = await startServer();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
  });

  it('rejects invalid options with a TypeError', async () => {
    await expect(startServer({ port: -1 })).rejects.toThrow(TypeError);
    await expect(startServer({ maxPayloadBytes: 0 })).rejects.toThrow(TypeError);
    await expect(startServer({ rateLimit: { messagesPerSecond: 0, burst: 1 } })).rejects.toThrow(TypeError);
    await expect(startServer({ schema: { versions: [1.5] } })).rejects.toThrow(TypeError);
  });

  it('rejects with the listen error when the port is taken', async () => {
    server = await startServer();
    await expect(startServer({ port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('stats', () => {
  it('counts sockets, sessions, sockets per user and sockets opened', async () => {
    server = await startServer();
    const s = server;
    expect(s.stats()).toEqual({
      sessions: 0,
      sockets: 0,
      subscriptions: 0,
      topics: 0,
      changesSent: 0,
      changesStored: 0,
      socketsOpened: 0,
      socketsByUser: {},
      refreshes: 0,
      closesByCode: {},
      upgradesRejected: {},
    });

    const shared = randomUUID();
    const alice1 = await connectSession(s, await mint({ sub: 'alice' }), { sessionId: shared });
    const alice2 = await connectSession(s, await mint({ sub: 'alice' }), { sessionId: shared });
    const bob = await connectSession(s, await mint({ sub: 'bob' }));
    const anonymous = await TestClient.connect(s.url);
    await waitFor(() => s.stats().sockets === 4);
    expect(s.stats()).toEqual({
      sessions: 2,
      sockets: 4,
      subscriptions: 0,
      topics: 0,
      changesSent: 0,
      changesStored: 0,
      socketsOpened: 4,
      socketsByUser: { alice: 2, bob: 1 },
      refreshes: 0,
      closesByCode: {},
      upgradesRejected: {},
    });

    await alice1.client.close();
    await anonymous.close();
    await waitFor(() => s.stats().sockets === 2);
    expect(s.stats()).toMatchObject({ sessions: 2, socketsOpened: 4, socketsByUser: { alice: 1, bob: 1 } });

    await Promise.all([alice2.client.close(), bob.client.close()]);
    await waitFor(() => s.stats().sockets === 0);
    expect(s.stats()).toMatchObject({ sessions: 0, socketsOpened: 4, socketsByUser: {}, closesByCode: { '1005': 4 } });
  });

  it('serves counts without user ids and without CORS on GET /health, 426 on other GETs and 404 on other methods', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint({ sub: 'alice' }));
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
    const text = await health.text();
    expect(text).not.toContain('alice');
    expect(JSON.parse(text)).toEqual({
      status: 'ok',
      live: true,
      ready: true,
      store: 'ok',
      shuttingDown: false,
      sessions: 1,
      sockets: 1,
      subscriptions: 0,
      topics: 0,
      changesSent: 0,
      changesStored: 0,
      socketsOpened: 1,
      refreshes: 0,
      closesByCode: {},
      upgradesRejected: {},
    });
    expect(await (await fetch(`${base}/health/live`)).json()).toEqual({ live: true });
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(426);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(404);
    await client.close();
  });
});

describe('terminateSockets', () => {
  it("destroys only the given user's sockets without a close handshake and returns the count", async () => {
    server = await startServer();
    const alice = await connectSession(server, await mint({ sub: 'alice' }));
    const bob = await connectSession(server, await mint({ sub: 'bob' }));
    expect(server.terminateSockets('alice')).toBe(1);
    expect((await alice.client.closed).code).toBe(1006);
    bob.client.send({ type: 'ping', id: 1 });
    expect(await bob.client.next()).toMatchObject({ type: 'pong', id: 1 });
    expect(server.terminateSockets()).toBe(1);
    expect((await bob.client.closed).code).toBe(1006);
  });
});

describe('expireSessions', () => {
  it("closes only the given user's sessions with 4002, as the expiry timer does, and returns the count", async () => {
    const started = await startServer();
    server = started;
    const alice = await connectSession(started, await mint({ sub: 'alice' }));
    const bob = await connectSession(started, await mint({ sub: 'bob' }));
    expect(started.expireSessions('alice')).toBe(1);
    expect(await alice.client.closed).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: 'token expired' });
    bob.client.send({ type: 'ping', id: 1 });
    expect(await bob.client.next()).toMatchObject({ type: 'pong', id: 1 });
    expect(started.expireSessions('nobody')).toBe(0);
    expect(started.expireSessions()).toBe(1);
    expect((await bob.client.closed).code).toBe(CloseCode.TOKEN_EXPIRED);
    await expect.poll(() => started.stats().closesByCode).toMatchObject({ [CloseCode.TOKEN_EXPIRED]: 2 });
  });
});

describe('end', () => {
  it('closes every socket of the session with 4005 and forgets it, so the id starts fresh', async () => {
    server = await startServer();
    const sessionId = randomUUID();
    const token = await mint();
    const first = await connectSession(server, token, { sessionId });
    const second = await connectSession(server, token, { sessionId });
    expect(second.welcome.resumed).toBe(true);
    first.client.send({ type: 'end' });
    expect(await first.client.closed).toEqual({ code: CloseCode.SESSION_ENDED, reason: 'session ended' });
    expect((await second.client.closed).code).toBe(CloseCode.SESSION_ENDED);
    const again = await connectSession(server, token, { sessionId });
    expect(again.welcome.resumed).toBe(false);
    await again.client.close();
  });
});

describe('close', () => {
  it('closes every socket with 4503, authenticated or not, then stops listening', async () => {
    const s = await startServer();
    const { client } = await connectSession(s, await mint());
    const pending = await TestClient.connect(s.url);
    await s.close();
    expect(await client.closed).toEqual({ code: CloseCode.SERVER_SHUTDOWN, reason: 'server shutting down' });
    expect((await pending.closed).code).toBe(CloseCode.SERVER_SHUTDOWN);
    await expect(TestClient.connect(s.url)).rejects.toThrow();
    await s.close(); // idempotent
  });
});

describe('logging', () => {
  /** A logger that keeps every call as `level message {fields}` text. */
  function recordingLogger() {
    const lines: string[] = [];
    const method =
      (level: string) =>
      (fieldsOrMessage: Record<string, unknown> | string, message?: string): void => {
        lines.push(
          typeof fieldsOrMessage === 'string'
            ? `${level} ${fieldsOrMessage}`
            : `${level} ${message} ${JSON.stringify(fieldsOrMessage)}`,
        );
      };
    return {
      lines,
      logger: { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') },
    };
  }

  it('logs session lines at debug with sub and session id as fields, never the token', async () => {
    const { lines, logger } = recordingLogger();
    server = await createSessionServer({ port: 0, auth: { secret: SECRET }, logger });
    const good = await mint({ sub: 'alice' });
    const bad = await mint({ sub: 'alice' }, { secret: 'not-the-server-secret-not-the-server-secret' });
    const { client } = await connectSession(server, good, { sessionId: 'session-1' });
    client.send({ type: 'update-token', id: 1, token: good });
    await client.next();
    const refused = await TestClient.connect(server.url);
    refused.send({ type: 'hello', protocol: PROTOCOL_VERSION, token: bad, sessionId: 'session-2' });
    await refused.closed;
    client.send({ type: 'end' });
    await client.closed;
    expect(lines).toContain('debug session created {"sessionId":"session-1","sub":"alice"}');
    expect(lines).toContain('debug session ended {"sessionId":"session-1","sub":"alice"}');
    const closedLine = 'debug session socket closed {"sessionId":"session-1","sub":"alice","code":4005}';
    await waitFor(() => lines.includes(closedLine));
    expect(lines).toContain(
      'debug hello refused {"sessionId":"session-2","code":4001,"reason":"token signature invalid"}',
    );
    expect(lines.filter((line) => line.startsWith('info')).every((line) => !line.includes('session-'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(good);
      expect(line).not.toContain(bad);
      expect(line).not.toContain(good.split('.')[1]);
    }
  });

  it('writes nothing per session at the default level info, and every session line at debug', async () => {
    const { lines, logger } = recordingLogger();
    server = await createSessionServer({ port: 0, auth: { secret: SECRET }, logger });
    const sessions = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => connectSession(server!, await mint({ sub: `user-${i}` }))),
    );
    await Promise.all(sessions.map(({ client }) => client.close()));
    await waitFor(() => server!.stats().sockets === 0);
    expect(lines.filter((line) => !line.startsWith('debug'))).toEqual([expect.stringMatching(/^info server started/)]);
    expect(lines.filter((line) => line.startsWith('debug session created'))).toHaveLength(20);
  });

  it('accepts a pino logger as is and writes its fields as JSON', async () => {
    const written: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void written.push(line) });
    server = await createSessionServer({ port: 0, auth: { secret: SECRET }, logger });
    const { client } = await connectSession(server, await mint({ sub: 'alice' }), { sessionId: 'p-1' });
    await client.close();
    const records = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({ level: 20, msg: 'session created', sessionId: 'p-1', sub: 'alice' }),
    );
    expect(records).toContainEqual(expect.objectContaining({ level: 30, msg: 'server started', store: 'in memory' }));
  });

  it('console logger: filters by level, one line per event with the fields as key=value', () => {
    const seen: string[] = [];
    const original = console.log;
    console.log = (line: string) => void seen.push(line);
    try {
      const logger = createConsoleLogger({ level: 'info', prefix: 'test' });
      logger.debug?.('hidden');
      logger.info({ sessionId: 's 1', n: 2, err: new TypeError('bad\nthing') }, 'shown\nline');
    } finally {
      console.log = original;
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^\S+ test info shown line sessionId="s 1" n=2 err="TypeError: bad\\nthing"$/);
    expect(() => createConsoleLogger({ level: 'loud' as 'info' })).toThrow(TypeError);
  });
});

describe('failures inside the server', () => {
  it('closes with 1011 when the session registry fails, and other sockets keep working', async () => {
    const memory = createMemorySessionRegistry();
    const failing: SessionRegistry = {
      attach: (sessionId, userId, now) => {
        if (userId === 'unlucky') throw new Error('store unavailable');
        return memory.attach(sessionId, userId, now);
      },
      detach: (sessionId, now) => memory.detach(sessionId, now),
      forget: (sessionId) => memory.forget(sessionId),
      prune: (now) => memory.prune(now),
    };
    server = await startServer({ sessionRegistry: failing });
    const healthy = await connectSession(server, await mint({ sub: 'alice' }));
    const unlucky = await TestClient.connect(server.url);
    unlucky.send({ type: 'hello', protocol: PROTOCOL_VERSION, token: await mint({ sub: 'unlucky' }), sessionId: 's' });
    expect(await unlucky.closed).toEqual({ code: 1011, reason: 'internal error' });
    healthy.client.send({ type: 'ping', id: 1 });
    expect(await healthy.client.next()).toMatchObject({ type: 'pong', id: 1 });
    await healthy.client.close();
  });
});
