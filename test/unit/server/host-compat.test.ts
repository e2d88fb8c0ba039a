import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { PublishOutcome, TopicChange } from '../../../src/protocol/host-api.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import type { SessionServer } from '../../../src/server/index.js';
import { Outbox } from '../../../src/worker/outbox.js';
import { createOutboxStore } from '../../../src/worker/outbox-store.js';
import { ServerConnection } from '../../../src/worker/server-connection.js';
import { createTopicCacheStore } from '../../../src/worker/topic-cache-store.js';
import { TopicSubscriptions } from '../../../src/worker/topic-subscriptions.js';
import { mint, startServer, waitFor } from './helpers.js';
import { range } from './topic-helpers.js';

let server: SessionServer | undefined;
let connection: ServerConnection | undefined;
afterEach(async () => {
  connection?.stop();
  connection = undefined;
  await server?.close();
  server = undefined;
});

/** The host's data plane (src/worker) wired to a real server, as the session host wires it. */
async function startHost(s: SessionServer, sub: string) {
  const token = await mint({ sub });
  const delivered: TopicChange[] = [];
  const outcomes: PublishOutcome[] = [];
  let opened = 0;
  const topics = new TopicSubscriptions(Promise.resolve(createTopicCacheStore(undefined)), {
    deliver: (_tab, _sub, changes) => delivered.push(...changes),
    trimmed: () => undefined,
    fail: (_tab, _sub, code, message) => {
      throw new Error(`subscription failed: ${code} ${message}`);
    },
  });
  const outbox = new Outbox(Promise.resolve(createOutboxStore(undefined)), (_tab, _clientId, outcome) =>
    outcomes.push(outcome),
  );
  topics.setUser(sub);
  outbox.setUser(sub);
  const sessionId = randomUUID();
  // Not a fresh literal, so that the events the session host does not need here may change.
  const events = {
    onConnecting() {},
    onDial() {},
    onWelcome() {
      opened++;
      topics.onConnected(link);
      outbox.onConnected(link);
    },
    onMessage(message: ServerMessage) {
      if (message.type === 'change') topics.onChange(message);
    },
    onClose() {
      topics.onDisconnected();
      outbox.onDisconnected();
    },
  };
  const link: ServerConnection = new ServerConnection({
    url: s.url,
    hello: () => ({ type: 'hello', protocol: PROTOCOL_VERSION, token, sessionId }),
    events,
    // One message per task with a microtask checkpoint after each, as browsers dispatch them (ws
    // otherwise emits every frame of a TCP chunk in one tick).
    createSocket: (url) => new WebSocket(url, { allowSynchronousEvents: false }) as unknown as globalThis.WebSocket,
  });
  connection = link;
  link.start();
  await waitFor(() => opened === 1);
  return { topics, outbox, delivered, outcomes, opened: () => opened };
}

describe('the host data plane (src/worker) against this server', () => {
  it('delivers in order across a dropped socket, resumes with only the missed changes, publishes exactly once', async () => {
    server = await startServer();
    const s = server;
    const host = await startHost(s, 'alice');
    await host.topics.add('tab-1', { subId: 'sub-1', topic: 'room' });
    for (const n of range(1, 3)) await host.outbox.enqueue('tab-1', { clientId: `c-${n}`, topic: 'room', data: n });
    await waitFor(() => host.delivered.length === 3);

    s.terminateSockets('alice');
    await waitFor(() => s.stats().sockets === 0);
    for (const n of range(4, 8)) await s.publish('room', n);
    await host.outbox.enqueue('tab-1', { clientId: 'c-offline', topic: 'room', data: 9 });
    const sentBefore = s.stats().changesSent;

    await waitFor(() => host.opened() === 2, 5000);
    await waitFor(() => host.delivered.length === 9, 5000);
    expect(host.delivered.map((c) => [c.seq, c.data])).toEqual(range(1, 9).map((n) => [n, n]));
    // After the reconnect: the 5 missed changes and the offline publish, not the history.
    expect(s.stats().changesSent - sentBefore).toBe(6);
    expect(host.outcomes).toEqual(range(1, 4).map((seq) => ({ ok: true, seq: seq === 4 ? 9 : seq, duplicate: false })));
    expect(s.stats()).toMatchObject({ changesStored: 9, subscriptions: 1, topics: 1 });
  });

  it('reports a denied subscription to the tab as FORBIDDEN', async () => {
    server = await startServer();
    const failures: string[] = [];
    const host = await startHost(server, 'alice');
    const topics = new TopicSubscriptions(Promise.resolve(createTopicCacheStore(undefined)), {
      deliver: () => {},
      trimmed: () => undefined,
      fail: (_tab, _sub, code) => failures.push(code),
    });
    topics.setUser('alice');
    topics.onConnected(connection!);
    await topics.add('tab-1', { subId: 'sub-1', topic: 'user:bob' });
    await waitFor(() => failures.length === 1);
    expect(failures).toEqual(['FORBIDDEN']);
    expect(host.delivered).toEqual([]);
  });
});
