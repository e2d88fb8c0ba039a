import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { hashClientId } from '../../../src/server/store/clientid-runs.js';
import { DEDUP_TAIL_BUDGET, DEDUP_TAIL_FLUSH_AT } from '../../../src/server/store/dedup-tail.js';
import { LMDB_STORE_FORMAT, openLmdbTopicStore } from '../../../src/server/store/index.js';
import { describeTopicStoreConformance } from './conformance.js';

const dirs: string[] = [];
const freshDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'shared-session-lmdb-'));
  dirs.push(dir);
  return dir;
};

/**
 * A directory as format 1 left it: topic `t` holds seq 1 published with clientId `c-1`, whose key
 * is in `dedup` (and, `withSizes`, its bytes in `sizes`, as once `sizes` existed).
 */
const formatOneDirectory = async ({ withSizes }: { withSizes: boolean }): Promise<string> => {
  const path = await freshDir();
  const raw = open({ path, noSubdir: false });
  const record = '{"publishedAt":1000,"clientId":"c-1","data":"old"}';
  await raw.openDB<number, string>({ name: 'meta', encoding: 'json' }).put('format', 1);
  await raw.openDB<string, [string, number]>({ name: 'changes', encoding: 'string' }).put(['t', 1], record);
  await raw.openDB<number, [string, string]>({ name: 'dedup', encoding: 'json' }).put(['t', 'c-1'], 1);
  if (withSizes) await raw.openDB<number, string>({ name: 'sizes', encoding: 'json' }).put('t', record.length);
  await raw.close();
  return path;
};

// Registered before the suites, so it runs after their afterEach hooks have closed the stores.
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describeTopicStoreConformance('openLmdbTopicStore', async (options) => {
  const path = await freshDir();
  return {
    store: await openLmdbTopicStore({ path, ...options }),
    reopen: () => openLmdbTopicStore({ path, ...options }),
  };
});

describe('openLmdbTopicStore', () => {
  it('creates the directory, with its parents, when it is missing', async () => {
    const path = join(await freshDir(), 'nested', 'data.db');
    const store = await openLmdbTopicStore({ path });
    await store.append('t', 1);
    await store.close();
    const reopened = await openLmdbTopicStore({ path });
    expect(await reopened.head('t')).toBe(1);
    await reopened.close();
  });

  it('refuses a missing path with a TypeError and a file as the directory', async () => {
    await expect(openLmdbTopicStore({ path: '' })).rejects.toBeInstanceOf(TypeError);
    const file = join(await freshDir(), 'file');
    await writeFile(file, 'not a directory');
    await expect(openLmdbTopicStore({ path: file })).rejects.toThrow();
  });

  it('refuses to open a directory written in another format', async () => {
    const path = await freshDir();
    const root = open({ path });
    await root.openDB<number, string>({ name: 'meta', encoding: 'json' }).put('format', LMDB_STORE_FORMAT + 1);
    await root.close();
    await expect(openLmdbTopicStore({ path })).rejects.toThrow(/format/);
  });

  it('reads the last 10 of 100,000 changes with a range read after seq head - 10', { timeout: 60_000 }, async () => {
    const store = await openLmdbTopicStore({ path: await freshDir() });
    const total = 100_000;
    const batch = 1_000;
    await store.append('other-before', 'x');
    for (let start = 1; start <= total; start += batch) {
      await Promise.all(Array.from({ length: batch }, (_, i) => store.append('big', { n: start + i })));
    }
    await store.append('other-after', 'x');
    expect(await store.head('big')).toBe(total);
    const last = await store.read('big', total - 10, 100);
    expect(last.map((change) => change.seq)).toEqual(Array.from({ length: 10 }, (_, i) => total - 9 + i));
    expect(last.map((change) => change.data)).toEqual(Array.from({ length: 10 }, (_, i) => ({ n: total - 9 + i })));
    await store.close();
  });

  it('rejects only the append that fails inside a batch; the others of its batch are stored, in order', async () => {
    const path = await freshDir();
    // A record no store could have written: trimming it (retention keeps 1) throws while the
    // batch is applied, so the transaction is rolled back and written again without that append.
    const root = open({ path, noSubdir: false });
    await root.openDB<number, string>({ name: 'meta', encoding: 'json' }).put('format', LMDB_STORE_FORMAT);
    await root.openDB<string, [string, number]>({ name: 'changes', encoding: 'string' }).put(['broken', 1], 'not json');
    await root.close();
    const store = await openLmdbTopicStore({ path, retention: { maxChanges: 1 } });
    const [before, broken, after] = await Promise.allSettled([
      store.append('good', 'a', { clientId: 'c-a' }),
      store.append('broken', 'b', { clientId: 'c-b' }),
      store.append('good', 'c', { clientId: 'c-c' }),
    ]);
    expect(broken.status).toBe('rejected');
    expect(before).toMatchObject({ status: 'fulfilled', value: { change: { seq: 1 }, duplicate: false } });
    expect(after).toMatchObject({ status: 'fulfilled', value: { change: { seq: 2 }, duplicate: false } });
    expect(await store.head('broken')).toBe(1);
    expect((await store.read('good', 0, 10)).map((c) => c.data)).toEqual(['c']); // retention: 1
    // Nothing of the failed append was kept: its clientId is unknown.
    expect((await store.append('good', 'again', { clientId: 'c-b' })).duplicate).toBe(false);
    await store.close();
  });

  it('commits concurrent appends to many topics in few transactions, each topic gap-free across reopen', async () => {
    const path = await freshDir();
    const store = await openLmdbTopicStore({ path });
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          store.append(`topic-${i % 50}`, { round, i }, { clientId: `${round}-${i}` }),
        ),
      );
    }
    await store.close();
    const reopened = await openLmdbTopicStore({ path });
    for (let t = 0; t < 50; t++) {
      const changes = await reopened.read(`topic-${t}`, 0, 1000);
      expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: rounds * 10 }, (_, i) => i + 1));
    }
    // The heads it remembered between transactions are the database's: appends go on at head + 1.
    expect((await reopened.append('topic-7', 'next')).change.seq).toBe(rounds * 10 + 1);
    await reopened.close();
  });

  it('keeps recent clientIds in memory, writes a full tail as one run, and finds both kinds after reopen', async () => {
    const path = await freshDir();
    const store = await openLmdbTopicStore({ path });
    const total = DEDUP_TAIL_FLUSH_AT + 100;
    for (let start = 0; start < total; start += 512) {
      const count = Math.min(512, total - start);
      await Promise.all(
        Array.from({ length: count }, (_, i) => store.append('t', start + i, { clientId: `c-${start + i}` })),
      );
    }
    await store.close();
    // On disk: the first full tail is one run of 12-byte pairs keyed by its last seq; no dedup key
    // is written any more, and the newest clientIds are only in their records.
    const raw = open({ path, noSubdir: false });
    const runs = [...raw.openDB<Buffer, [string, number]>({ name: 'runs', encoding: 'binary' }).getRange({})];
    const sizes = raw.openDB<{ bytes: number; indexed: number }, string>({ name: 'sizes', encoding: 'json' });
    const dedup = raw.openDB<number, [string, string]>({ name: 'dedup', encoding: 'json' });
    // Batches of 512 (the flush size is a multiple of 512): the batch that filled the tail flushed it.
    expect(sizes.get('t')?.indexed).toBe(DEDUP_TAIL_FLUSH_AT);
    expect(runs.map(({ key, value }) => [key, value.length])).toEqual([
      [['t', DEDUP_TAIL_FLUSH_AT], DEDUP_TAIL_FLUSH_AT * 12],
    ]);
    expect(dedup.get(['t', 'c-0'])).toBeUndefined();
    await raw.close();

    const reopened = await openLmdbTopicStore({ path });
    const early = await reopened.append('t', 'retry', { clientId: 'c-0' });
    expect(early).toMatchObject({ duplicate: true, change: { seq: 1, data: 0 } });
    const late = await reopened.append('t', 'retry', { clientId: `c-${total - 1}` });
    expect(late).toMatchObject({ duplicate: true, change: { seq: total, data: total - 1 } });
    expect((await reopened.append('t', 'new', { clientId: 'c-new' })).change.seq).toBe(total + 1);
    await reopened.close();
  });

  it('opens a format 1 directory, where every clientId is in dedup, and marks it format 2', async () => {
    const path = await formatOneDirectory({ withSizes: true });

    const store = await openLmdbTopicStore({ path });
    expect(await store.append('t', 'retry', { clientId: 'c-1' })).toMatchObject({
      duplicate: true,
      change: { seq: 1, data: 'old' },
    });
    expect((await store.append('t', 'new', { clientId: 'c-2' })).change.seq).toBe(2);
    await store.close();
    const check = open({ path, noSubdir: false });
    expect(check.openDB<number, string>({ name: 'meta', encoding: 'json' }).get('format')).toBe(2);
    await check.close();
  });

  it("removes a trimmed change's clientId from dedup, so that it is a new change when published again", async () => {
    const path = await formatOneDirectory({ withSizes: false });

    const store = await openLmdbTopicStore({ path, retention: { maxChanges: 1 } });
    expect((await store.append('t', 'second', { clientId: 'c-2' })).change.seq).toBe(2);
    expect(await store.append('t', 'again', { clientId: 'c-1' })).toMatchObject({
      duplicate: false,
      change: { seq: 3 },
    });
    await store.close();
    const check = open({ path, noSubdir: false });
    expect(
      check.openDB<number, [string, string]>({ name: 'dedup', encoding: 'json' }).get(['t', 'c-1']),
    ).toBeUndefined();
    await check.close();
  });

  it('tells apart two clientIds whose hashes are equal, before and after reopen', async () => {
    const path = await freshDir();
    const salt = 12_345;
    const raw = open({ path, noSubdir: false });
    const meta = raw.openDB<number, string>({ name: 'meta', encoding: 'json' });
    await meta.put('format', LMDB_STORE_FORMAT);
    await meta.put('salt', salt);
    await raw.close();
    // A birthday search: among 300,000 random ids about ten pairs share a 32-bit hash.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined && i < 300_000; i++) {
      const id = randomUUID();
      const hash = hashClientId(id, salt);
      const other = seen.get(hash);
      if (other === undefined) seen.set(hash, id);
      else pair = [other, id];
    }
    if (pair === undefined) throw new Error('no two ids with one hash');
    const [first, second] = pair;

    const store = await openLmdbTopicStore({ path });
    // `first` goes into a flushed run; `second` then misses the tail and meets its hash in the index.
    await store.append('t', 'first', { clientId: first });
    for (let start = 1; start < DEDUP_TAIL_FLUSH_AT; start += 512) {
      const count = Math.min(512, DEDUP_TAIL_FLUSH_AT - start);
      await Promise.all(
        Array.from({ length: count }, (_, i) => store.append('t', 'filler', { clientId: `f-${start + i}` })),
      );
    }
    expect(await store.append('t', 'second', { clientId: second })).toMatchObject({
      duplicate: false,
      change: { seq: DEDUP_TAIL_FLUSH_AT + 1 },
    });
    expect(await store.append('t', 'retry', { clientId: first })).toMatchObject({
      duplicate: true,
      change: { seq: 1 },
    });
    await store.close();
    const reopened = await openLmdbTopicStore({ path });
    expect(await reopened.append('t', 'retry', { clientId: second })).toMatchObject({
      duplicate: true,
      change: { seq: DEDUP_TAIL_FLUSH_AT + 1, data: 'second' },
    });
    expect(await reopened.append('t', 'retry', { clientId: first })).toMatchObject({
      duplicate: true,
      change: { data: 'first' },
    });
    await reopened.close();
  });

  it('forgets flushed clientIds that retention dropped and deletes runs wholly before the first change', async () => {
    const path = await freshDir();
    const store = await openLmdbTopicStore({ path, retention: { maxChanges: DEDUP_TAIL_FLUSH_AT } });
    const total = DEDUP_TAIL_FLUSH_AT * 3;
    for (let start = 0; start < total; start += 512)
      await Promise.all(
        Array.from({ length: 512 }, (_, i) => store.append('t', start + i, { clientId: `c-${start + i}` })),
      );
    // c-0 (seq 1) was dropped: publishing it again is a new change; c-(total - 1) is retained.
    expect(await store.append('t', 'again', { clientId: 'c-0' })).toMatchObject({
      duplicate: false,
      change: { seq: total + 1 },
    });
    expect((await store.append('t', 'retry', { clientId: `c-${total - 2}` })).duplicate).toBe(true);
    await store.close();
    const raw = open({ path, noSubdir: false });
    const keys = [...raw.openDB<Buffer, [string, number]>({ name: 'runs', encoding: 'binary' }).getKeys({})];
    await raw.close();
    // Runs end at 4096, 8192 and 12288; the first retained seq is past 8192, so only the last run is kept.
    expect(keys).toEqual([['t', total]]);
  });

  it(
    'writes the tails of the topics written once all tails pass their budget, and finds every clientId',
    { timeout: 60_000 },
    async () => {
      const path = await freshDir();
      const store = await openLmdbTopicStore({ path });
      // Topic after topic, each below the flush size: past ~66 topics the tails pass their budget,
      // and from then on each batch writes its topic's (short) tail as a run.
      const perTopic = 4_000;
      const topics = Math.ceil(DEDUP_TAIL_BUDGET / perTopic) + 4;
      for (let t = 0; t < topics; t++) {
        for (let start = 0; start < perTopic; start += 1_000)
          await Promise.all(
            Array.from({ length: 1_000 }, (_, i) => store.append(`t${t}`, i, { clientId: `t${t}-${start + i}` })),
          );
      }
      // In the tails of the first topics, in short runs of the last ones, across a reopen.
      for (const t of [0, 1, Math.floor(topics / 2), topics - 1]) {
        const retry = await store.append(`t${t}`, 'retry', { clientId: `t${t}-7` });
        expect(retry).toMatchObject({ duplicate: true, change: { seq: 8, data: 7 } });
      }
      await store.close();
      const reopened = await openLmdbTopicStore({ path });
      expect((await reopened.append('t0', 'retry', { clientId: 't0-3999' })).duplicate).toBe(true);
      expect((await reopened.append(`t${topics - 1}`, 'new', { clientId: 'fresh' })).change.seq).toBe(perTopic + 1);
      await reopened.close();
    },
  );

  it('reads topic heads again when another writer committed in between', async () => {
    const path = await freshDir();
    const store = await openLmdbTopicStore({ path });
    await store.append('shared', 'from the store');
    // Another environment handle on the same directory writes seq 2 behind the store's back.
    const other = open({ path, noSubdir: false });
    await other
      .openDB<string, [string, number]>({ name: 'changes', encoding: 'string' })
      .put(['shared', 2], '{"publishedAt":1,"data":"other"}');
    await other.close();
    expect((await store.append('shared', 'after')).change.seq).toBe(3);
    await store.close();
  });
});
