import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { LMDB_STORE_FORMAT, openLmdbTopicStore } from '../../../src/server/store/index.js';
import { describeTopicStoreConformance } from './conformance.js';

const dirs: string[] = [];
const freshDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'shared-session-lmdb-'));
  dirs.push(dir);
  return dir;
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
});
