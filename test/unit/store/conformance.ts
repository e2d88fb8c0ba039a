import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../src/protocol/messages.js';
import {
  MAX_STORED_CLIENT_ID_BYTES,
  MAX_STORED_TOPIC_BYTES,
  type StoredChange,
  type TopicStore,
} from '../../../src/server/store/index.js';
import type { TopicRetention } from '../../../src/server/store/retention.js';

/** What a store implementation hands the conformance suite: an open, empty store. */
export interface TopicStoreUnderTest {
  store: TopicStore;
  /** Opens the same data again after `store` was closed; given by durable stores only. */
  reopen?: () => Promise<TopicStore>;
}

/**
 * The behaviour every {@link TopicStore} must have (spec §5–§7), as a Vitest `describe` block.
 * `open` is called once per test and must return an empty store; the suite closes every store it
 * got. Tests of durability run only when `reopen` is given, and are reported as skipped otherwise.
 *
 * @example
 * ```ts
 * describeTopicStoreConformance('memory store', async () => ({ store: createMemoryTopicStore() }));
 * ```
 */
export function describeTopicStoreConformance(
  name: string,
  open: (options?: { retention?: Partial<TopicRetention> }) => Promise<TopicStoreUnderTest>,
): void {
  describe(`${name} (TopicStore conformance)`, () => {
    const opened: TopicStore[] = [];
    const track = (store: TopicStore): TopicStore => (opened.push(store), store);
    const openStore = async (options?: { retention?: Partial<TopicRetention> }): Promise<TopicStoreUnderTest> => {
      const underTest = await open(options);
      track(underTest.store);
      if (!underTest.reopen) return underTest;
      const reopen = underTest.reopen;
      return { store: underTest.store, reopen: async () => track(await reopen()) };
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    const seqs = (changes: StoredChange[]): number[] => changes.map((change) => change.seq);

    it('numbers the changes of each topic 1, 2, 3… independently of the other topics', async () => {
      const { store } = await openStore();
      expect((await store.append('a', 'a1')).change.seq).toBe(1);
      expect((await store.append('a', 'a2')).change.seq).toBe(2);
      expect((await store.append('b', 'b1')).change.seq).toBe(1);
      expect((await store.append('a', 'a3')).change.seq).toBe(3);
      expect(await store.head('a')).toBe(3);
      expect(await store.head('b')).toBe(1);
    });

    it('returns the stored change from append, without a clientId when none was given', async () => {
      const { store } = await openStore();
      const result = await store.append('a', { n: 1 }, { publishedAt: 1000 });
      expect(result).toEqual({ change: { topic: 'a', seq: 1, data: { n: 1 }, publishedAt: 1000 }, duplicate: false });
      expect(result.change).not.toHaveProperty('clientId');
      const [read] = await store.read('a', 0, 1);
      expect(read).toEqual(result.change);
      expect(read).not.toHaveProperty('clientId');
    });

    it('reads from the start with after = 0, in ascending order', async () => {
      const { store } = await openStore();
      for (let i = 1; i <= 5; i++) await store.append('t', i);
      const changes = await store.read('t', 0, 100);
      expect(seqs(changes)).toEqual([1, 2, 3, 4, 5]);
      expect(changes.map((change) => change.data)).toEqual([1, 2, 3, 4, 5]);
      expect(changes.every((change) => change.topic === 't')).toBe(true);
    });

    it('reads only the changes after the cursor, at most limit of them', async () => {
      const { store } = await openStore();
      for (let i = 1; i <= 10; i++) await store.append('t', i);
      expect(seqs(await store.read('t', 3, 4))).toEqual([4, 5, 6, 7]);
      expect(seqs(await store.read('t', 8, 100))).toEqual([9, 10]);
      expect(seqs(await store.read('t', 0, 1))).toEqual([1]);
    });

    it('reads nothing after the head, far after it, or with limit 0', async () => {
      const { store } = await openStore();
      for (let i = 1; i <= 3; i++) await store.append('t', i);
      expect(await store.read('t', 3, 10)).toEqual([]);
      expect(await store.read('t', 1_000_000, 10)).toEqual([]);
      expect(await store.read('t', 0, 0)).toEqual([]);
    });

    it('reports head 0 and reads nothing for an unknown topic', async () => {
      const { store } = await openStore();
      await store.append('known', 1);
      expect(await store.head('unknown')).toBe(0);
      expect(await store.read('unknown', 0, 10)).toEqual([]);
    });

    it('returns the original change, marked duplicate, when a clientId is appended again, and stores nothing', async () => {
      const { store } = await openStore();
      const first = await store.append('t', { v: 'original' }, { clientId: 'c-1', publishedAt: 1000 });
      await store.append('t', 'other');
      const again = await store.append('t', { v: 'retry' }, { clientId: 'c-1', publishedAt: 2000 });
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({
        change: { topic: 't', seq: 1, data: { v: 'original' }, publishedAt: 1000, clientId: 'c-1' },
        duplicate: true,
      });
      expect(await store.head('t')).toBe(2);
      expect(seqs(await store.read('t', 0, 10))).toEqual([1, 2]);
    });

    it('stores one change for concurrent appends of one clientId', async () => {
      const { store } = await openStore();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.append('t', i, { clientId: 'same' })),
      );
      expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
      expect(new Set(results.map((result) => result.change.seq))).toEqual(new Set([1]));
      expect(new Set(results.map((result) => result.change.data))).toEqual(new Set([0]));
      expect(await store.head('t')).toBe(1);
    });

    it('treats the same clientId on another topic as a separate change', async () => {
      const { store } = await openStore();
      await store.append('a', 'first', { clientId: 'c-1' });
      await store.append('b', 'zero');
      const other = await store.append('b', 'second', { clientId: 'c-1' });
      expect(other).toEqual({
        change: expect.objectContaining({ topic: 'b', seq: 2, data: 'second', clientId: 'c-1' }),
        duplicate: false,
      });
      expect(await store.head('a')).toBe(1);
      expect(await store.head('b')).toBe(2);
    });

    it('keeps topics apart whose names are prefixes of one another, long, or split differently from a clientId', async () => {
      const { store } = await openStore();
      const long = 'x'.repeat(100);
      const topics = ['a', 'a/b', 'ab', long, `${long}y`, 'é', '\u0001', '\u0001\u0001'];
      for (const [i, topic] of topics.entries()) await store.append(topic, i);
      for (const [i, topic] of topics.entries()) {
        expect(await store.head(topic)).toBe(1);
        expect(await store.read(topic, 0, 10)).toEqual([expect.objectContaining({ topic, seq: 1, data: i })]);
      }
      // (topic 'a', clientId 'bc') and (topic 'ab', clientId 'c') are different pairs.
      expect((await store.append('a', 1, { clientId: 'bc' })).duplicate).toBe(false);
      expect((await store.append('ab', 2, { clientId: 'c' })).duplicate).toBe(false);
    });

    it('serialises 200 concurrent appends to one topic into seqs 1..200, each once', async () => {
      const { store } = await openStore();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append('busy', { i })));
      const returned = results.map((result) => result.change.seq).sort((a, b) => a - b);
      expect(returned).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(await store.head('busy')).toBe(200);
      const changes = await store.read('busy', 0, 1000);
      expect(seqs(changes)).toEqual(returned);
      // Each read change is the one its append returned.
      const bySeq = new Map(results.map((result) => [result.change.seq, result.change.data]));
      for (const change of changes) expect(change.data).toEqual(bySeq.get(change.seq));
    });

    it('numbers appends to one topic in the order they were called, however many are pending at once', async () => {
      const { store } = await openStore();
      // A connection's pipelined publishes rely on it: its publishes' seqs ascend in send order.
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => store.append(`t${i % 3}`, { i }, { clientId: `c-${i}` })),
      );
      results.forEach((result, i) => expect(result.change.seq).toBe(Math.floor(i / 3) + 1));
    });

    it('stores a clientId repeated among concurrent appends once, whatever else is pending beside it', async () => {
      const { store } = await openStore();
      const results = await Promise.all([
        store.append('t', 'first', { clientId: 'same' }),
        store.append('t', 'other', { clientId: 'other' }),
        store.append('t', 'second', { clientId: 'same' }),
        store.append('u', 'elsewhere', { clientId: 'same' }),
      ]);
      expect(results.map((r) => [r.change.topic, r.change.seq, r.duplicate])).toEqual([
        ['t', 1, false],
        ['t', 2, false],
        ['t', 1, true],
        ['u', 1, false],
      ]);
      expect(results[2]!.change.data).toBe('first');
      expect(seqs(await store.read('t', 0, 10))).toEqual([1, 2]);
    });

    it('round-trips JSON data: nested objects, arrays, unicode, null and edge-case numbers and keys', async () => {
      const { store } = await openStore();
      const values: JsonValue[] = [
        null,
        true,
        false,
        0,
        -1.5,
        1e300,
        Number.MAX_SAFE_INTEGER,
        '',
        'héllo wörld — 你好 🌍👩‍👩‍👧',
        'quotes " \\ and \n newlines \u0000 and \u2028',
        [],
        {},
        [1, 'two', null, [3, [4, { five: 5 }]]],
        { nested: { deeper: { list: [{ a: null }, { b: [true, false] }] } }, 'key with spaces': 1, '': 'empty key' },
        // An own "__proto__" member, as JSON.parse makes it (some binary encoders rename it).
        JSON.parse('{"__proto__":{"polluted":true},"constructor":1}') as JsonValue,
      ];
      for (const value of values) await store.append('json', value);
      const changes = await store.read('json', 0, 100);
      expect(changes.map((change) => change.data)).toEqual(values);
      const last = changes.at(-1)!.data as Record<string, JsonValue>;
      expect(Object.keys(last)).toEqual(['__proto__', 'constructor']);
      expect(Object.getPrototypeOf(last)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('stores publishedAt as given, or Date.now() at the append when not given', async () => {
      const { store } = await openStore();
      const given = await store.append('t', 1, { publishedAt: 1_700_000_000_123 });
      const before = Date.now();
      const defaulted = await store.append('t', 2);
      const after = Date.now();
      expect(given.change.publishedAt).toBe(1_700_000_000_123);
      expect(defaulted.change.publishedAt).toBeGreaterThanOrEqual(before);
      expect(defaulted.change.publishedAt).toBeLessThanOrEqual(after);
      const [readGiven, readDefaulted] = await store.read('t', 0, 2);
      expect(readGiven!.publishedAt).toBe(1_700_000_000_123);
      expect(readDefaulted!.publishedAt).toBe(defaulted.change.publishedAt);
    });

    it('refuses invalid arguments with a TypeError (a RangeError when too long) and stores nothing', async () => {
      const { store } = await openStore();
      const cyclic: { self?: unknown } = {};
      cyclic.self = cyclic;
      const invalid: Array<[string, () => Promise<unknown>]> = [
        ['empty topic', () => store.append('', 1)],
        ['non-string topic', () => store.append(42 as unknown as string, 1)],
        ['topic with NUL', () => store.append('a\u0000b', 1)],
        ['topic with a lone surrogate', () => store.append('a\ud800', 1)],
        ['empty clientId', () => store.append('t', 1, { clientId: '' })],
        ['non-string clientId', () => store.append('t', 1, { clientId: 7 as unknown as string })],
        ['NaN publishedAt', () => store.append('t', 1, { publishedAt: Number.NaN })],
        ['string publishedAt', () => store.append('t', 1, { publishedAt: '1' as unknown as number })],
        ['undefined data', () => store.append('t', undefined as unknown as JsonValue)],
        ['BigInt data', () => store.append('t', { n: 1n } as unknown as JsonValue)],
        ['cyclic data', () => store.append('t', cyclic as unknown as JsonValue)],
        ['negative after', () => store.read('t', -1, 10)],
        ['fractional after', () => store.read('t', 1.5, 10)],
        ['NaN after', () => store.read('t', Number.NaN, 10)],
        ['negative limit', () => store.read('t', 0, -1)],
        ['infinite limit', () => store.read('t', 0, Infinity)],
        ['empty topic for read', () => store.read('', 0, 10)],
        ['empty topic for head', () => store.head('')],
      ];
      for (const [label, call] of invalid) await expect(call(), label).rejects.toBeInstanceOf(TypeError);
      await expect(store.append('é'.repeat(MAX_STORED_TOPIC_BYTES / 2 + 1), 1)).rejects.toBeInstanceOf(RangeError);
      await expect(
        store.append('t', 1, { clientId: 'c'.repeat(MAX_STORED_CLIENT_ID_BYTES + 1) }),
      ).rejects.toBeInstanceOf(RangeError);
      expect(await store.head('t')).toBe(0);
      // The limits themselves are accepted.
      const longTopic = 't'.repeat(MAX_STORED_TOPIC_BYTES);
      const longClientId = 'c'.repeat(MAX_STORED_CLIENT_ID_BYTES);
      expect((await store.append(longTopic, 1, { clientId: longClientId })).change.seq).toBe(1);
      expect((await store.append(longTopic, 2, { clientId: longClientId })).duplicate).toBe(true);
    });

    it('answers ping() while open, a cheap health probe, and rejects it after close', async () => {
      const { store } = await openStore();
      await expect(store.ping?.()).resolves.toBeUndefined();
      await store.append('a', 1);
      await expect(store.ping?.()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping?.()).rejects.toThrow('closed');
    });

    it('reads at most about maxBytes (at least one change), and the newest page before a seq with readBefore', async () => {
      const { store } = await openStore();
      const big = 'x'.repeat(1000);
      for (let i = 1; i <= 10; i++) await store.append('t', { i, big });
      expect(seqs(await store.read('t', 0, 100, { maxBytes: 2500 }))).toEqual([1, 2, 3]);
      expect(seqs(await store.read('t', 0, 100, { maxBytes: 1 }))).toEqual([1]);
      expect(seqs(await store.readBefore('t', 11, 3))).toEqual([8, 9, 10]);
      expect(seqs(await store.readBefore('t', 5, 100))).toEqual([1, 2, 3, 4]);
      expect(seqs(await store.readBefore('t', Number.MAX_SAFE_INTEGER, 2))).toEqual([9, 10]);
      expect(seqs(await store.readBefore('t', 11, 100, { maxBytes: 2500 }))).toEqual([8, 9, 10]);
      expect(seqs(await store.readBefore('t', 11, 100, { maxBytes: 1 }))).toEqual([10]);
      expect(await store.readBefore('t', 1, 10)).toEqual([]);
      expect(await store.readBefore('t', 5, 0)).toEqual([]);
      expect(await store.readBefore('unknown', 5, 10)).toEqual([]);
      await expect(store.readBefore('t', -1, 1)).rejects.toThrow(TypeError);
      await expect(store.read('t', 0, 1, { maxBytes: 0 })).rejects.toThrow(TypeError);
    });

    it('keeps at most retention.maxChanges per topic, newest kept, seqs going on, other topics untouched', async () => {
      const { store } = await openStore({ retention: { maxChanges: 3 } });
      for (let i = 1; i <= 7; i++) await store.append('t', i, { clientId: `c-${i}` });
      await store.append('other', 'o');
      expect(await store.head('t')).toBe(7);
      expect(seqs(await store.read('t', 0, 100))).toEqual([5, 6, 7]);
      expect(seqs(await store.read('t', 2, 100))).toEqual([5, 6, 7]); // the gap shows: first seq > after + 1
      expect(seqs(await store.readBefore('t', 7, 100))).toEqual([5, 6]);
      expect((await store.append('t', 8)).change.seq).toBe(8);
      expect(seqs(await store.read('other', 0, 10))).toEqual([1]);
      // A retained clientId still deduplicates; a trimmed one is forgotten with its change.
      expect(await store.append('t', 'again', { clientId: 'c-7' })).toMatchObject({
        duplicate: true,
        change: { seq: 7 },
      });
      expect(await store.append('t', 'again', { clientId: 'c-1' })).toMatchObject({
        duplicate: false,
        change: { seq: 9 },
      });
    });

    it('applies retention to appends that are pending together, and forgets the trimmed clientIds', async () => {
      const { store } = await openStore({ retention: { maxChanges: 5 } });
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(`t${i % 2}`, i, { clientId: `c-${i}` })));
      expect(seqs(await store.read('t0', 0, 100))).toEqual([16, 17, 18, 19, 20]);
      expect(seqs(await store.read('t1', 0, 100))).toEqual([16, 17, 18, 19, 20]);
      const [retained, trimmed] = await Promise.all([
        store.append('t0', 'again', { clientId: 'c-38' }), // seq 20 of t0, retained
        store.append('t0', 'again', { clientId: 'c-0' }), // seq 1 of t0, trimmed
      ]);
      expect([retained.duplicate, retained.change.seq]).toEqual([true, 20]);
      expect([trimmed.duplicate, trimmed.change.seq]).toEqual([false, 21]);
    });

    it('keeps at most about retention.maxBytes per topic, but always the newest change', async () => {
      const { store } = await openStore({ retention: { maxBytes: 3000 } });
      const big = 'x'.repeat(1000);
      for (let i = 1; i <= 6; i++) await store.append('t', { i, big });
      expect(seqs(await store.read('t', 0, 100))).toEqual([5, 6]);
      await store.append('t', { huge: 'y'.repeat(5000) });
      expect(seqs(await store.read('t', 0, 100))).toEqual([7]);
    });

    it('drops changes older than retention.maxAgeMs at the next append of their topic', async () => {
      const { store } = await openStore({ retention: { maxAgeMs: 1000 } });
      await store.append('t', 1, { publishedAt: 10_000 });
      await store.append('t', 2, { publishedAt: 10_500 });
      await store.append('t', 3, { publishedAt: 11_200 });
      expect(seqs(await store.read('t', 0, 10))).toEqual([2, 3]);
      await store.append('t', 4, { publishedAt: 50_000 });
      expect(seqs(await store.read('t', 0, 10))).toEqual([4]);
    });

    it('rejects calls after close, and closes idempotently', async () => {
      const { store } = await openStore();
      await store.append('t', 1);
      await store.close();
      await store.close();
      await expect(store.append('t', 2)).rejects.toThrow(/closed/);
      await expect(store.read('t', 0, 10)).rejects.toThrow(/closed/);
      await expect(store.head('t')).rejects.toThrow(/closed/);
    });

    it('keeps changes, heads and dedup state across close and reopen, and continues at head + 1', async (ctx) => {
      const { store, reopen } = await openStore();
      if (!reopen) return ctx.skip();
      await store.append('a', { n: 1 }, { clientId: 'c-1', publishedAt: 1000 });
      await store.append('a', [2, 'two']);
      await store.append('b', 'b1', { clientId: 'c-1' });
      const before = { a: await store.read('a', 0, 10), b: await store.read('b', 0, 10) };
      await store.close();

      const reopened = await reopen();
      expect(await reopened.head('a')).toBe(2);
      expect(await reopened.head('b')).toBe(1);
      expect(await reopened.read('a', 0, 10)).toEqual(before.a);
      expect(await reopened.read('b', 0, 10)).toEqual(before.b);
      const retry = await reopened.append('a', 'retry', { clientId: 'c-1' });
      expect(retry).toEqual({
        change: { topic: 'a', seq: 1, data: { n: 1 }, publishedAt: 1000, clientId: 'c-1' },
        duplicate: true,
      });
      expect((await reopened.append('a', 3)).change.seq).toBe(3);
      expect((await reopened.append('b', 'b2', { clientId: 'c-2' })).change.seq).toBe(2);
    });

    it('completes the appends pending when close is called and keeps them', async (ctx) => {
      const { store, reopen } = await openStore();
      if (!reopen) return ctx.skip();
      const pending = Array.from({ length: 20 }, (_, i) => store.append('t', i, { clientId: `c-${i}` }));
      const closed = store.close();
      const results = await Promise.all(pending);
      await closed;
      expect(results.map((result) => result.change.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const reopened = await reopen();
      expect(await reopened.head('t')).toBe(20);
      expect((await reopened.append('t', 'retry', { clientId: 'c-7' })).duplicate).toBe(true);
    });
  });
}
