import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { WIRE_PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import { createMemorySessionRegistry, createTokenVerifier, DEFAULT_LIMITS } from '../../../src/server/index.js';
import type { ServerLimits } from '../../../src/server/limits.js';
import { Connection, type ConnectionHost, type TopicHandler } from '../../../src/server/session/connection.js';
import type { TopicMessage, TopicPeer } from '../../../src/server/topics/peer.js';
import type { SocketLike } from '../../../src/server/transport/socket.js';
import { mint, SECRET } from './helpers.js';

/** A socket that records what the connection wrote; `next()` waits for the next frame or close. */
function fakeSocket() {
  const frames: ServerMessage[] = [];
  let closed: { code: number; reason: string } | undefined;
  let wake: (() => void) | undefined;
  const socket: SocketLike & {
    next(): Promise<ServerMessage | { closed: { code: number; reason: string } }>;
    terminated: number;
    pauses: number;
    resumes: number;
  } = {
    bufferedAmount: 0,
    terminated: 0,
    pauses: 0,
    resumes: 0,
    terminate() {
      this.terminated++;
    },
    pause() {
      this.pauses++;
    },
    resume() {
      this.resumes++;
    },
    send(data: string | Buffer, options?: { binary: false }) {
      // A Buffer is a text frame's UTF-8 (a fan-out's frame): only ever sent with binary: false.
      if (typeof data !== 'string') expect(options).toEqual({ binary: false });
      frames.push(JSON.parse(data.toString()) as ServerMessage);
      wake?.();
    },
    close(code, reason) {
      closed = { code, reason };
      wake?.();
    },
    async next() {
      while (frames.length === 0 && closed === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const frame = frames.shift();
      return frame ?? { closed: closed ?? { code: 0, reason: '' } };
    },
  };
  return socket;
}

/** A data plane that records what it was handed. */
function recordingTopics(): TopicHandler & { handled: Array<[TopicPeer, TopicMessage]>; gone: TopicPeer[] } {
  return {
    handled: [],
    gone: [],
    handle(peer, message) {
      this.handled.push([peer, message]);
    },
    disconnected(peer) {
      this.gone.push(peer);
    },
  };
}

function host(
  topics: TopicHandler,
  overrides: Partial<ConnectionHost> = {},
  limits: Partial<ServerLimits> = {},
): ConnectionHost {
  return {
    limits: { ...DEFAULT_LIMITS, ...limits },
    socketsOfUser: () => 0,
    verifier: createTokenVerifier({ secret: SECRET }),
    registry: createMemorySessionRegistry(),
    schemaVersions: undefined,
    rateLimit: false,
    logger: { info() {}, warn() {}, error() {} },
    topics,
    opened() {},
    ended() {},
    closed() {},
    ...overrides,
  };
}

async function helloFrame(claims: Parameters<typeof mint>[0] = { roles: ['r'] }): Promise<string> {
  const token = await mint(claims);
  return JSON.stringify({ type: 'hello', protocol: WIRE_PROTOCOL_VERSION, token, sessionId: randomUUID() });
}

describe('Connection (with a fake socket and a fake data plane)', () => {
  it('hands an authenticated peer its topic messages and says when it went away', async () => {
    const socket = fakeSocket();
    const topics = recordingTopics();
    const connection = new Connection(socket, host(topics), { helloTimeoutMs: 60_000 });
    const hello = {
      type: 'hello',
      protocol: WIRE_PROTOCOL_VERSION,
      token: await mint({ roles: ['r'] }),
      sessionId: randomUUID(),
    };
    connection.receive(JSON.stringify(hello), false);
    expect(await socket.next()).toMatchObject({ type: 'welcome', protocol: WIRE_PROTOCOL_VERSION, userId: 'alice' });

    connection.receive(JSON.stringify({ type: 'subscribe', id: 1, topic: 'news', after: 0 }), false);
    connection.receive(JSON.stringify({ type: 'ping', id: 2 }), false);
    expect(await socket.next()).toMatchObject({ type: 'pong', id: 2 });
    expect(topics.handled).toEqual([[connection, { type: 'subscribe', id: 1, topic: 'news', after: 0 }]]);
    expect(connection.session).toMatchObject({ userId: 'alice', roles: ['r'] });

    connection.handleClose();
    expect(topics.gone).toEqual([connection]);
  });

  it('never hands the data plane a message before hello, and closes with 4000', async () => {
    const socket = fakeSocket();
    const topics = recordingTopics();
    const connection = new Connection(socket, host(topics), { helloTimeoutMs: 60_000 });
    connection.receive(JSON.stringify({ type: 'publish', id: 1, topic: 'news', clientId: 'c', data: 1 }), false);
    expect(await socket.next()).toEqual({
      closed: { code: CloseCode.PROTOCOL_ERROR, reason: 'first frame must be "hello"' },
    });
    connection.handleClose();
    expect(topics.handled).toEqual([]);
    expect(topics.gone).toEqual([]);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('closes with 4008 and destroys the socket at the hello deadline (a raw socket ignores close frames)', () => {
    vi.useFakeTimers();
    const socket = fakeSocket();
    new Connection(socket, host(recordingTopics()), { helloTimeoutMs: 100 });
    vi.advanceTimersByTime(100);
    expect(socket.terminated).toBe(1);
  });

  it('destroys a socket refused before welcome that does not answer the close within the grace', async () => {
    const socket = fakeSocket();
    const connection = new Connection(socket, host(recordingTopics()), { helloTimeoutMs: 60_000 });
    vi.useFakeTimers();
    connection.receive('not json', false);
    await vi.waitFor(() => expect(socket.terminated).toBe(0));
    expect(await socket.next()).toEqual({
      closed: { code: CloseCode.PROTOCOL_ERROR, reason: 'frame is not valid JSON' },
    });
    vi.advanceTimersByTime(1_000);
    expect(socket.terminated).toBe(1);
  });

  it('closes with 4009 when the transport reports the pre-hello byte budget spent', async () => {
    const socket = fakeSocket();
    const connection = new Connection(socket, host(recordingTopics()), { helloTimeoutMs: 60_000 });
    connection.preHelloLimitExceeded();
    expect(await socket.next()).toEqual({
      closed: { code: CloseCode.MESSAGE_TOO_LARGE, reason: 'message too large (limit 20480 bytes before hello)' },
    });
  });

  it('refuses a token over maxTokenBytes with 4001 before verifying it', async () => {
    const socket = fakeSocket();
    const connection = new Connection(socket, host(recordingTopics(), {}, { maxTokenBytes: 64 }), {
      helloTimeoutMs: 60_000,
    });
    connection.receive(await helloFrame(), false);
    expect(await socket.next()).toEqual({ closed: { code: CloseCode.UNAUTHORIZED, reason: 'token too large' } });
  });

  it('closes with 4011 when the user already holds maxSocketsPerUser sockets, and releases nothing it did not take', async () => {
    const socket = fakeSocket();
    const registry = createMemorySessionRegistry();
    const connection = new Connection(
      socket,
      host(
        recordingTopics(),
        { registry, socketsOfUser: (userId) => (userId === 'alice' ? 2 : 0) },
        { maxSocketsPerUser: 2 },
      ),
      { helloTimeoutMs: 60_000 },
    );
    connection.receive(await helloFrame(), false);
    expect(await socket.next()).toEqual({
      closed: { code: CloseCode.TOO_MANY_SOCKETS, reason: 'too many sockets for this user (limit 2)' },
    });
    expect(connection.session).toBeUndefined();
    expect(registry.size).toBe(1); // remembered as idle, never live
  });

  it('pauses reading while more frames wait than the queue allows, and resumes once half ran', async () => {
    const socket = fakeSocket();
    let release: (() => void) | undefined;
    const topics: TopicHandler = {
      handle: () => new Promise<void>((resolve) => (release = resolve)),
      disconnected() {},
    };
    const connection = new Connection(socket, host(topics, {}, { maxQueuedFrames: 4 }), { helloTimeoutMs: 60_000 });
    connection.receive(await helloFrame(), false);
    expect(await socket.next()).toMatchObject({ type: 'welcome' });
    connection.receive(JSON.stringify({ type: 'subscribe', id: 1, topic: 'slow', after: 0 }), false);
    for (let id = 2; id <= 6; id++) connection.receive(JSON.stringify({ type: 'ping', id }), false);
    expect(socket.pauses).toBe(1);
    expect(socket.resumes).toBe(0);
    await vi.waitFor(() => expect(release).toBeDefined());
    release?.();
    for (let id = 2; id <= 6; id++) expect(await socket.next()).toMatchObject({ type: 'pong', id });
    expect(socket.resumes).toBe(1);
  });

  it('answers frames over the rate limit with RATE_LIMITED and their id, in order', async () => {
    const socket = fakeSocket();
    const connection = new Connection(
      socket,
      host(recordingTopics(), { rateLimit: { messagesPerSecond: 0.001, burst: 2 } }),
      { helloTimeoutMs: 60_000 },
    );
    connection.receive(await helloFrame(), false);
    connection.receive(JSON.stringify({ type: 'ping', id: 1 }), false);
    connection.receive(JSON.stringify({ type: 'ping', id: 2 }), false);
    expect(await socket.next()).toMatchObject({ type: 'welcome' });
    expect(await socket.next()).toMatchObject({ type: 'pong', id: 1 });
    expect(await socket.next()).toMatchObject({ type: 'error', id: 2, code: 'RATE_LIMITED' });
  });
});
