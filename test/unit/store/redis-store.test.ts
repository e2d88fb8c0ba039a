import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedisTopicStore, type TopicStore } from '../../../src/server/index.js';
import { missingServices, startRedis, type RedisService } from '../scale-out/services.js';
import { describeTopicStoreConformance } from './conformance.js';

const missing = missingServices(false);

if (missing !== undefined) {
  describe.skip(`openRedisTopicStore: skipped, ${missing}`, () => {
    it('passes the TopicStore conformance suite against a real redis-server', () => {});
  });
} else {
  let redis: RedisService;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  // A fresh key prefix per test: an empty store; reopening with the same prefix finds the same data.
  describeTopicStoreConformance('openRedisTopicStore (real redis-server)', async (options) => {
    const keyPrefix = `conformance-${randomUUID()}:`;
    return {
      store: await openRedisTopicStore({ url: redis.url, keyPrefix, ...options }),
      reopen: () => openRedisTopicStore({ url: redis.url, keyPrefix, ...options }),
    };
  });

  describe('openRedisTopicStore', () => {
    const opened: TopicStore[] = [];
    afterAll(async () => {
      await Promise.all(opened.map((store) => store.close()));
    });
    const open = async (keyPrefix = `store-${randomUUID()}:`): Promise<TopicStore> => {
      const store = await openRedisTopicStore({ url: redis.url, keyPrefix });
      opened.push(store);
      return store;
    };

    it('numbers appends of two processes (two connections) of one topic without gaps, and dedups across them', async () => {
      const keyPrefix = `two-${randomUUID()}:`;
      const [a, b] = [await open(keyPrefix), await open(keyPrefix)];
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).append('t', { i }, { clientId: `c-${i % 50}` })),
      );
      expect(
        results
          .filter((r) => !r.duplicate)
          .map((r) => r.change.seq)
          .sort((x, y) => x - y),
      ).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await b.head('t')).toBe(50);
      expect((await a.read('t', 0, 100)).map((c) => c.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('keeps each topic in a stream whose entry ids are the seqs (record, bytes, clientId), under the key prefix, with a Cluster hash tag', async () => {
      const keyPrefix = `layout-${randomUUID()}:`;
      const store = await open(keyPrefix);
      await store.append('chat {room}', { text: 'hi' }, { clientId: 'c-1', publishedAt: 1000 });
      const client = new Redis(redis.url);
      try {
        const log = `${keyPrefix}topic:{chat%20%7Broom%7D}:log`;
        expect(await client.xrange(log, '-', '+')).toEqual([
          ['1-0', ['change', '{"publishedAt":1000,"clientId":"c-1","data":{"text":"hi"}}', 'b', '58', 'c', 'c-1']],
        ]);
        expect(await client.hgetall(`${keyPrefix}topic:{chat%20%7Broom%7D}:ids`)).toEqual({ 'c-1': '1' });
        // The retained bytes of the topic (the record's UTF-8 length), for retention's maxBytes.
        expect(await client.get(`${keyPrefix}topic:{chat%20%7Broom%7D}:bytes`)).toBe('58');
      } finally {
        client.disconnect();
      }
    });

    it('announces every new change on the topic channel in seq order, and nothing for a duplicate', async () => {
      const keyPrefix = `channel-${randomUUID()}:`;
      const store = await open(keyPrefix);
      const subscriber = new Redis(redis.url);
      try {
        const messages: string[] = [];
        subscriber.on('message', (_channel: string, message: string) => messages.push(message));
        await subscriber.subscribe(`${keyPrefix}changes:news`);
        await Promise.all([1, 2, 3].map((n) => store.append('news', n, { clientId: `c-${n}`, publishedAt: 5 })));
        await store.append('news', 'again', { clientId: 'c-2' });
        await store.append('news', 4, { publishedAt: 6 });
        await expect.poll(() => messages.length).toBe(4);
        expect(messages.map((m) => JSON.parse(m))).toEqual([
          { seq: 1, publishedAt: 5, clientId: 'c-1', data: 1 },
          { seq: 2, publishedAt: 5, clientId: 'c-2', data: 2 },
          { seq: 3, publishedAt: 5, clientId: 'c-3', data: 3 },
          { seq: 4, publishedAt: 6, data: 4 },
        ]);
      } finally {
        subscriber.disconnect();
      }
    });

    it('rejects only the appends of a topic whose script call fails; the rest of the pipelined batch is stored', async () => {
      const keyPrefix = `fail-${randomUUID()}:`;
      const store = await open(keyPrefix);
      const client = new Redis(redis.url);
      try {
        // Not a stream: the append script of this topic fails with WRONGTYPE.
        await client.set(`${keyPrefix}topic:{broken}:log`, 'not a stream');
        const results = await Promise.allSettled([
          store.append('ok', 1, { clientId: 'c-1' }),
          store.append('broken', 2, { clientId: 'c-2' }),
          store.append('ok', 3, { clientId: 'c-3' }),
          store.append('broken', 4),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
        expect((await store.read('ok', 0, 10)).map((c) => [c.seq, c.data])).toEqual([
          [1, 1],
          [2, 3],
        ]);
      } finally {
        client.disconnect();
      }
    });

    it('splits a large batch of one topic into several script calls, keeping the order and the dedup across them', async () => {
      const store = await open();
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => store.append('big', i, { clientId: `c-${i % 250}` })),
      );
      expect(results.slice(0, 250).map((r) => r.change.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      expect(results.slice(250).map((r) => [r.duplicate, r.change.seq])).toEqual(
        Array.from({ length: 50 }, (_, i) => [true, i + 1]),
      );
      expect(await store.head('big')).toBe(250);
    });

    it('refuses a URL that is not redis:// with a TypeError, and an unreachable Redis with an Error', async () => {
      await expect(openRedisTopicStore({ url: 'http://127.0.0.1:1' })).rejects.toBeInstanceOf(TypeError);
      await expect(openRedisTopicStore({ url: 'redis://127.0.0.1:1' })).rejects.toThrow(/cannot connect to Redis/);
    });

    it('fails appends with an error, rather than hanging, while Redis is down', { timeout: 20_000 }, async () => {
      const own = await startRedis();
      const store = await openRedisTopicStore({ url: own.url, keyPrefix: 'down:' });
      try {
        await store.append('t', 1);
        await own.stop();
        await expect(store.append('t', 2)).rejects.toThrow();
      } finally {
        await store.close();
        await own.stop();
      }
    });
  });
}
