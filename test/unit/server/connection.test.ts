import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { WIRE_PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import { createMemorySessionRegistry, createTokenVerifier } from '../../../src/server/index.js';
import { Connection, type ConnectionHost, type TopicHandler } from '../../../src/server/session/connection.js';
import type { TopicMessage, TopicPeer } from '../../../src/server/topics/peer.js';
import type { SocketLike } from '../../../src/server/transport/socket.js';
import { mint, SECRET } from './helpers.js';

/** A socket that records what the connection wrote; `next()` waits for the next frame or close. */
function fakeSocket() {
  const frames: ServerMessage[] = [];
  let closed: { code: number; reason: string } | undefined;
  let wake: (() => void) | undefined;
  const socket: SocketLike & { next(): Promise<ServerMessage | { closed: { code: number; reason: string } }> } = {
    bufferedAmount: 0,
    send(text) {
      frames.push(JSON.parse(text) as ServerMessage);
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

function host(topics: TopicHandler): ConnectionHost {
  return {
    verifier: createTokenVerifier({ secret: SECRET }),
    registry: createMemorySessionRegistry(),
    schemaVersions: undefined,
    rateLimit: false,
    logger: { info() {}, warn() {}, error() {} },
    topics,
    opened() {},
    ended() {},
    closed() {},
  };
}

describe('Connection (with a fake socket and a fake data plane)', () => {
  it('hands an authenticated peer its topic messages and says when it went away', async () => {
    const socket = fakeSocket();
    const topics = recordingTopics();
    const connection = new Connection(socket, host(topics), 60_000);
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
    const connection = new Connection(socket, host(topics), 60_000);
    connection.receive(JSON.stringify({ type: 'publish', id: 1, topic: 'news', clientId: 'c', data: 1 }), false);
    expect(await socket.next()).toEqual({
      closed: { code: CloseCode.PROTOCOL_ERROR, reason: 'first frame must be "hello"' },
    });
    connection.handleClose();
    expect(topics.handled).toEqual([]);
    expect(topics.gone).toEqual([]);
  });
});
