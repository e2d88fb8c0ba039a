import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryTopicStore, openLmdbTopicStore, type SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer } from './helpers.js';
import { changes, publish, range, seed, subscribe } from './topic-helpers.js';

const dirs: string[] = [];
let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shared-session-restart-'));
  dirs.push(dir);
  return dir;
}

describe('restart on the LMDB store', () => {
  it('resumes subscribers after their last seq with only newer changes, continues at head + 1, keeps dedup', async () => {
    const path = await tempDir();
    const first = await startServer({ store: { path } });
    const token = await mint();
    const before = await connectSession(first, token);
    await subscribe(before.client, 1, 'feed');
    const writer = await connectSession(first, await mint({ sub: 'writer' }));
    for (const n of range(1, 5)) {
      expect(await publish(writer.client, n, 'feed', n, `c-${n}`)).toMatchObject({ type: 'published', seq: n });
    }
    const seen = await changes(before.client, 5);
    const cursor = seen.at(-1)!.seq;
    expect(cursor).toBe(5);
    await first.close(); // closes the store it opened

    server = await startServer({ store: { path } });
    expect(await server.publish('feed', 'after restart')).toEqual({ seq: 6 });
    const after = await connectSession(server, token);
    expect(await subscribe(after.client, 1, 'feed', cursor)).toEqual({
      type: 'subscribed',
      id: 1,
      topic: 'feed',
      head: 6,
    });
    expect(await changes(after.client, 1)).toMatchObject([{ seq: 6, data: 'after restart' }]);
    expect(server.stats().changesSent).toBe(1);
    // An outbox retry of a publish stored before the restart is still a duplicate.
    expect(await publish(after.client, 2, 'feed', 3, 'c-3')).toMatchObject({ seq: 3, duplicate: true });
    expect(await publish(after.client, 3, 'feed', 7, 'c-7')).toMatchObject({ seq: 7, duplicate: false });
    expect(await changes(after.client, 1)).toMatchObject([{ seq: 7, clientId: 'c-7' }]);
    await after.client.close();
  });

  it('sends exactly the 10 missed changes of a 10,000-change LMDB topic after a restart', async () => {
    const path = await tempDir();
    const store = await openLmdbTopicStore({ path });
    await seed(store, 'big', 10_000);
    await store.close();

    server = await startServer({ store: { path } });
    const { client } = await connectSession(server, await mint());
    expect(await subscribe(client, 1, 'big', 9_990)).toMatchObject({ type: 'subscribed', head: 10_000 });
    expect((await changes(client, 10)).map((c) => c.seq)).toEqual(range(9_991, 10_000));
    await server.publish('big', 'live');
    expect(await changes(client, 1)).toMatchObject([{ seq: 10_001 }]);
    expect(server.stats().changesSent).toBe(11);
    await client.close();
  });
});

describe('the store option', () => {
  it('does not close a store it was given', async () => {
    const store = createMemoryTopicStore();
    server = await startServer({ store });
    await server.publish('t', 1);
    await server.close();
    server = undefined;
    expect(await store.head('t')).toBe(1);
    await store.close();
  });

  it('rejects a store option of another shape with a TypeError', async () => {
    for (const store of ['lmdb', { path: '' }, { append() {} }, 42]) {
      await expect(startServer({ store: store as never })).rejects.toThrow(TypeError);
    }
    await expect(startServer({ maxChangeBytes: 0 })).rejects.toThrow(TypeError);
    await expect(startServer({ permissions: { 'a:*': { read: 'admin' as never } } })).rejects.toThrow(TypeError);
  });
});
