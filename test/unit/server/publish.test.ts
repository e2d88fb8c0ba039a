import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../src/protocol/messages.js';
import {
  createMemoryTopicStore,
  DEFAULT_MAX_CHANGE_BYTES,
  type SessionServer,
  type TopicStore,
} from '../../../src/server/index.js';
import { connectSession, mint, startServer } from './helpers.js';
import { changes, expectNothingBeforePong, publish, range, subscribe } from './topic-helpers.js';

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('publish', () => {
  it('stores a clientId once: repeats (also after a reconnect) answer duplicate with the same seq, fanned out once', async () => {
    server = await startServer();
    const token = await mint({ sub: 'alice' });
    const watcher = await connectSession(server, await mint({ sub: 'watcher' }));
    await subscribe(watcher.client, 1, 'inbox');
    await server.publish('inbox', 'before');

    const first = await connectSession(server, token);
    expect(await publish(first.client, 1, 'inbox', { text: 'hi' }, 'outbox-1')).toEqual({
      type: 'published',
      id: 1,
      topic: 'inbox',
      seq: 2,
      duplicate: false,
    });
    expect(await publish(first.client, 2, 'inbox', { text: 'hi' }, 'outbox-1')).toEqual({
      type: 'published',
      id: 2,
      topic: 'inbox',
      seq: 2,
      duplicate: true,
    });
    await first.client.close();
    const second = await connectSession(server, token);
    expect(await publish(second.client, 1, 'inbox', { text: 'hi' }, 'outbox-1')).toMatchObject({
      seq: 2,
      duplicate: true,
    });

    expect(await changes(watcher.client, 2)).toMatchObject([
      { seq: 1, data: 'before' },
      { seq: 2, data: { text: 'hi' }, clientId: 'outbox-1' },
    ]);
    await server.publish('inbox', 'after');
    expect(await changes(watcher.client, 1)).toMatchObject([{ seq: 3, data: 'after' }]);
    expect(server.stats()).toMatchObject({ changesStored: 3, changesSent: 3 });
    // The same clientId on another topic is another change.
    expect(await publish(second.client, 2, 'other', 1, 'outbox-1')).toMatchObject({ seq: 1, duplicate: false });
    await Promise.all([second.client.close(), watcher.client.close()]);
  });

  it('handles 64 pipelined publishes of one connection in order', async () => {
    server = await startServer();
    const reader = await connectSession(server, await mint({ sub: 'reader' }));
    await subscribe(reader.client, 1, 'ordered');
    const { client } = await connectSession(server, await mint());
    for (const n of range(1, 64))
      client.send({ type: 'publish', id: n, topic: 'ordered', clientId: `c-${n}`, data: n });
    const answers = await Promise.all(range(1, 64).map(() => client.next()));
    expect(answers.map((a) => (a.type === 'published' ? [a.id, a.seq] : a))).toEqual(range(1, 64).map((n) => [n, n]));
    const received = await changes(reader.client, 64);
    expect(received.map((c) => [c.seq, c.data, c.clientId])).toEqual(range(1, 64).map((n) => [n, n, `c-${n}`]));
    await Promise.all([client.close(), reader.client.close()]);
  });

  it('sends the publisher its own change when it is subscribed', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 'echo');
    client.send({ type: 'publish', id: 2, topic: 'echo', clientId: 'c', data: 'me' });
    const frames = [await client.next(), await client.next()];
    expect(frames).toEqual(
      expect.arrayContaining([
        { type: 'published', id: 2, topic: 'echo', seq: 1, duplicate: false },
        { type: 'change', topic: 'echo', seq: 1, data: 'me', publishedAt: expect.any(Number), clientId: 'c' },
      ]),
    );
    await client.close();
  });

  it('refuses data over maxChangeBytes with PAYLOAD_TOO_LARGE and stores nothing', async () => {
    server = await startServer({ maxChangeBytes: 1024 });
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 'big');
    // A string of n characters is n + 2 bytes of JSON.
    expect(await publish(client, 2, 'big', 'x'.repeat(1023))).toMatchObject({
      type: 'error',
      id: 2,
      code: 'PAYLOAD_TOO_LARGE',
      message: '"data" is 1025 bytes of JSON; the limit is 1024',
    });
    expect(await publish(client, 3, 'big', 'é'.repeat(600))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expectNothingBeforePong(client, 4);
    expect(server.stats().changesStored).toBe(0);
    expect(await publish(client, 5, 'big', 'x'.repeat(1022))).toMatchObject({ type: 'published', seq: 1 });
    await client.close();
  });

  it('allows 256 KiB of data by default and refuses one byte more', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    const limit = DEFAULT_MAX_CHANGE_BYTES;
    expect(limit).toBe(256 * 1024);
    expect(await publish(client, 1, 't', 'x'.repeat(limit - 1))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await publish(client, 2, 't', 'x'.repeat(limit - 2))).toMatchObject({ type: 'published', seq: 1 });
    await client.close();
  });

  it('answers INTERNAL when the store fails, keeps the socket, and works again once the store does', async () => {
    const memory = createMemoryTopicStore();
    let failing = true;
    const fail = () => Promise.reject(new Error('disk on fire'));
    const store: TopicStore = {
      append: (...args) => (failing ? fail() : memory.append(...args)),
      read: (...args) => (failing ? fail() : memory.read(...args)),
      readBefore: (...args) => (failing ? fail() : memory.readBefore(...args)),
      head: (...args) => (failing ? fail() : memory.head(...args)),
      close: () => memory.close(),
    };
    const logged: string[] = [];
    server = await startServer({
      store,
      logger: { info() {}, warn() {}, error: (line) => logged.push(String(line)) },
    });
    const { client } = await connectSession(server, await mint());
    expect(await publish(client, 1, 't', 1)).toMatchObject({ type: 'error', id: 1, code: 'INTERNAL' });
    expect(await subscribe(client, 2, 't')).toMatchObject({ type: 'error', id: 2, code: 'INTERNAL' });
    expect(server.stats()).toMatchObject({ subscriptions: 0, topics: 0, changesStored: 0 });
    await expect(server.publish('t', 1)).rejects.toThrow('disk on fire');
    expect(logged.some((line) => line.includes('disk on fire'))).toBe(true);

    failing = false;
    expect(await subscribe(client, 3, 't')).toMatchObject({ type: 'subscribed', head: 0 });
    expect(await publish(client, 4, 't', 1)).toMatchObject({ type: 'published', seq: 1 });
    expect(await changes(client, 1)).toMatchObject([{ seq: 1 }]);
    await client.close();
  });
});

describe('server.publish', () => {
  it('appends without a clientId, fans out, and resolves with the seq', async () => {
    server = await startServer({ permissions: { 'locked:*': { read: ['*'] } } });
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 'locked:news');
    const data = { title: 'deployed', tags: ['ops'] };
    expect(await server.publish('locked:news', data)).toEqual({ seq: 1 });
    expect(await server.publish('locked:news', null)).toEqual({ seq: 2 });
    const received = await changes(client, 2);
    expect(received[0]).toEqual({
      type: 'change',
      topic: 'locked:news',
      seq: 1,
      data,
      publishedAt: expect.any(Number),
    });
    expect(received[1]).toMatchObject({ seq: 2, data: null });
    expect(server.stats().changesStored).toBe(2);
    await client.close();
  });

  it('sends what was stored even when the caller changes the data afterwards', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    await subscribe(client, 1, 't');
    const data = { n: 1, skipped: undefined as unknown as JsonValue };
    const published = server.publish('t', data);
    data.n = 2;
    await published;
    expect(await changes(client, 1)).toMatchObject([{ data: { n: 1 } }]);
    await client.close();
  });

  it('rejects a bad topic or non-JSON data with a TypeError and oversized data with a RangeError', async () => {
    server = await startServer({ maxChangeBytes: 16 });
    const s = server;
    for (const topic of ['', 'x'.repeat(257), 'line\nbreak', 42 as unknown as string, 'lone\ud800']) {
      await expect(s.publish(topic, 1)).rejects.toThrow(TypeError);
    }
    for (const data of [undefined, () => 1, 10n, Symbol('s')]) {
      await expect(s.publish('t', data as unknown as JsonValue)).rejects.toThrow(TypeError);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(s.publish('t', cyclic as JsonValue)).rejects.toThrow(TypeError);
    await expect(s.publish('t', 'x'.repeat(20))).rejects.toThrow(RangeError);
    expect(s.stats().changesStored).toBe(0);
  });
});
