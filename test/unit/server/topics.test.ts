import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryTopicStore,
  openLmdbTopicStore,
  type SessionServer,
  type TopicStore,
} from '../../../src/server/index.js';
import { connectSession, mint, startServer, waitFor } from './helpers.js';
import { changes, expectNothingBeforePong, publish, range, seed, subscribe } from './topic-helpers.js';

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('subscribe', () => {
  it('answers subscribed with the head, then sends changes 1..1000 in order, then live ones', async () => {
    const store = createMemoryTopicStore();
    await seed(store, 'feed', 1000);
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint());
    expect(await subscribe(client, 1, 'feed', 0)).toEqual({ type: 'subscribed', id: 1, topic: 'feed', head: 1000 });
    const caught = await changes(client, 1000);
    expect(caught.map((c) => c.seq)).toEqual(range(1, 1000));
    expect(caught.map((c) => c.data)).toEqual(range(1, 1000).map((n) => ({ n })));
    expect(caught[0]).toEqual({
      type: 'change',
      topic: 'feed',
      seq: 1,
      data: { n: 1 },
      publishedAt: expect.any(Number),
    });

    await server.publish('feed', { n: 1001 });
    const bob = await connectSession(server, await mint({ sub: 'bob' }));
    expect(await publish(bob.client, 1, 'feed', { n: 1002 }, 'client-1002')).toEqual({
      type: 'published',
      id: 1,
      topic: 'feed',
      seq: 1002,
      duplicate: false,
    });
    expect(await changes(client, 2)).toEqual([
      { type: 'change', topic: 'feed', seq: 1001, data: { n: 1001 }, publishedAt: expect.any(Number) },
      {
        type: 'change',
        topic: 'feed',
        seq: 1002,
        data: { n: 1002 },
        publishedAt: expect.any(Number),
        clientId: 'client-1002',
      },
    ]);
    expect(server.stats()).toMatchObject({ changesSent: 1002, changesStored: 2, subscriptions: 1, topics: 1 });
    await Promise.all([client.close(), bob.client.close()]);
  });

  it('answers head 0 for an empty topic and sends only what is published later', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    expect(await subscribe(client, 1, 'empty')).toEqual({ type: 'subscribed', id: 1, topic: 'empty', head: 0 });
    await server.publish('empty', 'first');
    expect(await changes(client, 1)).toMatchObject([{ seq: 1, data: 'first' }]);
    await client.close();
  });

  it('resumes after n with exactly the missed changes: 10 of a 100,000-change topic', async () => {
    const store = createMemoryTopicStore();
    await seed(store, 'big', 100_000);
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint());
    const sentBefore = server.stats().changesSent;
    expect(await subscribe(client, 1, 'big', 99_990)).toMatchObject({ type: 'subscribed', head: 100_000 });
    expect((await changes(client, 10)).map((c) => c.seq)).toEqual(range(99_991, 100_000));
    // The next frame is the next live change: nothing else was sent after the 10.
    await server.publish('big', 'live');
    expect(await changes(client, 1)).toMatchObject([{ seq: 100_001, data: 'live' }]);
    expect(server.stats().changesSent - sentBefore).toBe(11);
    await client.close();
  });

  it('sends nothing but live changes when resuming at the head', async () => {
    const store = createMemoryTopicStore();
    await seed(store, 't', 50);
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint());
    expect(await subscribe(client, 1, 't', 50)).toMatchObject({ type: 'subscribed', head: 50 });
    await expectNothingBeforePong(client, 2);
    await server.publish('t', 'next');
    expect(await changes(client, 1)).toMatchObject([{ seq: 51 }]);
    expect(server.stats().changesSent).toBe(1);
    await client.close();
  });

  it('replaces a subscription of the same topic and restarts the stream at the new after', async () => {
    const store = createMemoryTopicStore();
    await seed(store, 'log', 5);
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint());
    expect(await subscribe(client, 1, 'log', 0)).toMatchObject({ type: 'subscribed', id: 1 });
    expect((await changes(client, 5)).map((c) => c.seq)).toEqual(range(1, 5));
    expect(await subscribe(client, 2, 'log', 2)).toEqual({ type: 'subscribed', id: 2, topic: 'log', head: 5 });
    expect((await changes(client, 3)).map((c) => c.seq)).toEqual([3, 4, 5]);
    expect(server.stats()).toMatchObject({ subscriptions: 1, topics: 1 });
    // One live copy, not one per subscribe.
    await server.publish('log', 'six');
    expect(await changes(client, 1)).toMatchObject([{ seq: 6 }]);
    await expectNothingBeforePong(client, 3);
    await client.close();
  });

  it('restarts at the new after even while the replaced subscription is still catching up', async () => {
    const store = createMemoryTopicStore();
    await seed(store, 'long', 5000);
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint());
    client.send({ type: 'subscribe', id: 1, topic: 'long', after: 0 });
    client.send({ type: 'subscribe', id: 2, topic: 'long', after: 4990 });
    const frames = [];
    for (;;) {
      const frame = await client.next();
      frames.push(frame);
      if (frame.type === 'subscribed' && frame.id === 2) break;
    }
    // What the first subscription sent before the second was handled is in order from 1.
    const before = frames.filter((f) => f.type === 'change').map((f) => f.seq);
    expect(before).toEqual(range(1, before.length));
    expect((await changes(client, 10)).map((c) => c.seq)).toEqual(range(4991, 5000));
    await server.publish('long', 'next');
    expect(await changes(client, 1)).toMatchObject([{ seq: 5001 }]);
    await client.close();
  });
});

/** A memory store whose reads resolve a macrotask later, so that appends land between a read and its use. */
function slowReadStore(): TopicStore {
  const store = createMemoryTopicStore();
  return {
    ...store,
    read: async (topic, after, limit) => {
      const changes = await store.read(topic, after, limit);
      await nextMacrotask();
      return changes;
    },
  };
}

const raceStores: Array<[string, () => Promise<TopicStore>]> = [
  ['the memory store', async () => createMemoryTopicStore()],
  ['a store with slow reads (a network store)', async () => slowReadStore()],
  [
    'the LMDB store',
    async () => {
      const path = await mkdtemp(join(tmpdir(), 'shared-session-race-'));
      const store = await openLmdbTopicStore({ path });
      return { ...store, close: () => store.close().then(() => rm(path, { recursive: true, force: true })) };
    },
  ],
];

describe.each(raceStores)('catch-up to live hand-over on %s', (_, openStore) => {
  it('delivers 1..N without a gap or a duplicate while changes keep arriving', async () => {
    const store = await openStore();
    await seed(store, 'race', 3000);
    server = await startServer({ store, rateLimit: false });
    const s = server;
    const reader = await connectSession(s, await mint({ sub: 'reader' }));
    const writer = await connectSession(s, await mint({ sub: 'writer' }));
    const extra = 1000;
    // Server publishes (some concurrent) and pipelined client publishes, during the catch-up.
    const writing = (async () => {
      for (let i = 0; i < extra / 4; i++) {
        writer.client.send({ type: 'publish', id: i, topic: 'race', clientId: `w-${i}`, data: 'client' });
        await Promise.all([s.publish('race', 'server'), s.publish('race', 'server'), s.publish('race', 'server')]);
        if (i % 5 === 0) await nextMacrotask();
      }
    })();
    expect(await subscribe(reader.client, 1, 'race', 0)).toMatchObject({ type: 'subscribed' });
    const received = await changes(reader.client, 3000 + extra, 10_000);
    await writing;
    expect(received.map((c) => c.seq)).toEqual(range(1, 3000 + extra));
    await expectNothingBeforePong(reader.client, 2);
    expect(s.stats()).toMatchObject({ changesSent: 3000 + extra, changesStored: extra });
    await Promise.all([reader.client.close(), writer.client.close()]);
    await s.close();
    await store.close();
  });
});

describe('unsubscribe', () => {
  it('stops delivery, is not answered, and drops the shared group with its last member', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 'news');
    await server.publish('news', 1);
    expect(await changes(client, 1)).toMatchObject([{ seq: 1 }]);
    client.send({ type: 'unsubscribe', topic: 'news' });
    client.send({ type: 'unsubscribe', topic: 'never-subscribed' });
    await expectNothingBeforePong(client, 2);
    expect(server.stats()).toMatchObject({ subscriptions: 0, topics: 0 });
    await server.publish('news', 2);
    await expectNothingBeforePong(client, 3);
    expect(server.stats().changesSent).toBe(1);
    await client.close();
  });

  it('drops every subscription of a socket that closed', async () => {
    server = await startServer();
    const s = server;
    const { client } = await connectSession(s, await mint());
    await subscribe(client, 1, 'a');
    await subscribe(client, 2, 'b');
    expect(s.stats()).toMatchObject({ subscriptions: 2, topics: 2 });
    await client.close();
    await waitFor(() => s.stats().subscriptions === 0);
    expect(s.stats().topics).toBe(0);
    expect(await s.publish('a', 'nobody listens')).toEqual({ seq: 1 });
  });
});

describe('shared fan-out groups', () => {
  it('shares one group between connections with equal permissions and sends each change to both', async () => {
    server = await startServer();
    const alice = await connectSession(server, await mint({ sub: 'alice' }));
    const bob = await connectSession(server, await mint({ sub: 'bob' }));
    await subscribe(alice.client, 1, 'room');
    await subscribe(bob.client, 1, 'room');
    expect(server.stats()).toMatchObject({ subscriptions: 2, topics: 1 });
    expect(await publish(alice.client, 2, 'room', 'hi', 'c-1')).toMatchObject({ type: 'published', seq: 1 });
    expect(await changes(alice.client, 1)).toMatchObject([{ seq: 1, data: 'hi', clientId: 'c-1' }]);
    expect(await changes(bob.client, 1)).toMatchObject([{ seq: 1, data: 'hi', clientId: 'c-1' }]);
    expect(server.stats()).toMatchObject({ changesSent: 2, changesStored: 1 });
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  it('keeps one group per effective read permission', async () => {
    server = await startServer({ permissions: { 'room:*': { read: ['member', 'admin'], write: ['admin'] } } });
    const members = await Promise.all(
      ['m1', 'm2'].map(async (sub) => connectSession(server!, await mint({ sub, roles: ['member'] }))),
    );
    const admin = await connectSession(server, await mint({ sub: 'boss', roles: ['admin'] }));
    for (const { client } of [...members, admin]) {
      expect(await subscribe(client, 1, 'room:1')).toMatchObject({ type: 'subscribed' });
    }
    expect(server.stats()).toMatchObject({ subscriptions: 3, topics: 2 });
    await server.publish('room:1', 'to all');
    for (const { client } of [...members, admin]) expect(await changes(client, 1)).toMatchObject([{ seq: 1 }]);
    await Promise.all([...members, admin].map(({ client }) => client.close()));
  });

  it('fans out to 100 subscribers of one group', async () => {
    server = await startServer({ limits: { maxSocketsPerUser: 100 } });
    const token = await mint();
    const subscribers = await Promise.all(range(1, 100).map(() => connectSession(server!, token)));
    await Promise.all(subscribers.map(({ client }) => subscribe(client, 1, 'wide')));
    expect(server.stats()).toMatchObject({ subscriptions: 100, topics: 1 });
    for (const n of range(1, 20)) await server.publish('wide', n);
    for (const { client } of subscribers) {
      expect((await changes(client, 20)).map((c) => c.data)).toEqual(range(1, 20));
    }
    expect(server.stats().changesSent).toBe(2000);
    await Promise.all(subscribers.map(({ client }) => client.close()));
  });
});

describe('backpressure', () => {
  it('delivers every change in order to a client that stopped reading for a while', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 'firehose');
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const chunk = 'x'.repeat(64 * 1024);
    // 200 × 64 KiB: more than the kernel buffers and MAX_SEND_BUFFER_BYTES hold.
    for (const n of range(1, 200)) await server.publish('firehose', { n, chunk });
    socket.resume();
    const received = await changes(client, 200, 10_000);
    expect(received.map((c) => (c.data as { n: number }).n)).toEqual(range(1, 200));
    await server.publish('firehose', { n: 201 });
    expect(await changes(client, 1)).toMatchObject([{ seq: 201 }]);
    expect(server.stats().changesSent).toBe(201);
    await client.close();
  });
});
