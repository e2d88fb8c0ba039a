import { describe, expect, it } from 'vitest';
import { createPaginatedTopicStore } from '../../../src/bindings/index.js';
import { ForbiddenError } from '../../../src/errors/index.js';
import { MemoryClient, settle } from './memory-client.js';

const numbers = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

async function openPaginated(total: number, pageSize: number) {
  const client = new MemoryClient();
  client.publish('log', ...numbers(total));
  const store = createPaginatedTopicStore<number>(client, 'log', { pageSize });
  const off = store.subscribe(() => undefined);
  await settle();
  const data = () => store.getSnapshot().changes.map((c) => c.data);
  return { client, store, off, data };
}

describe('createPaginatedTopicStore', () => {
  it('walks back to the first page and forward again to the newest', async () => {
    const { store, off, data } = await openPaginated(25, 10);
    expect(store.getSnapshot()).toMatchObject({ page: 0, hasNextPage: true, hasPreviousPage: false });
    expect(data()).toEqual(numbers(10, 16));

    await store.getSnapshot().nextPage();
    expect(store.getSnapshot()).toMatchObject({ page: 1, hasNextPage: true, hasPreviousPage: true });
    expect(data()).toEqual(numbers(10, 6));
    await store.getSnapshot().nextPage();
    expect(store.getSnapshot()).toMatchObject({ page: 2, hasNextPage: false, hasPreviousPage: true });
    expect(data()).toEqual(numbers(5));
    await store.getSnapshot().nextPage(); // past the end: stays
    expect(store.getSnapshot().page).toBe(2);

    await store.getSnapshot().prevPage();
    expect(data()).toEqual(numbers(10, 6));
    await store.getSnapshot().prevPage();
    expect(store.getSnapshot()).toMatchObject({ page: 0, hasPreviousPage: false });
    expect(data()).toEqual(numbers(10, 16));
    await store.getSnapshot().prevPage(); // before the start: stays
    expect(store.getSnapshot().page).toBe(0);
    off();
  });

  it('merges live changes into the newest page, keeping it pageSize long', async () => {
    const { client, store, off, data } = await openPaginated(5, 4);
    expect(data()).toEqual([2, 3, 4, 5]);
    client.publish('log', 6, 7);
    await settle();
    expect(data()).toEqual([4, 5, 6, 7]);
    expect(store.getSnapshot().hasNextPage).toBe(true);
    off();
  });

  it('keeps an older page still while live changes arrive, and shows them on going back', async () => {
    const { client, store, off, data } = await openPaginated(20, 10);
    await store.getSnapshot().nextPage();
    const page1 = store.getSnapshot();
    client.publish('log', 21, 22);
    await settle();
    expect(store.getSnapshot()).toBe(page1);
    expect(data()).toEqual(numbers(10, 1));
    await store.getSnapshot().prevPage();
    expect(data()).toEqual(numbers(10, 13));
    off();
  });

  it('reuses a loaded older page while it still fits, and loads it again once the newest page moved', async () => {
    const { client, store, off } = await openPaginated(30, 10);
    await store.getSnapshot().nextPage();
    await store.getSnapshot().nextPage();
    await store.getSnapshot().prevPage();
    await store.getSnapshot().prevPage();
    await store.getSnapshot().nextPage();
    expect(client.historyCalls).toHaveLength(3); // newest, page 1, page 2: page 1 came from memory
    client.publish('log', 31);
    await settle();
    await store.getSnapshot().prevPage();
    await store.getSnapshot().nextPage();
    expect(client.historyCalls.at(-1)).toEqual({ topic: 'log', options: { before: 22, limit: 10 } });
    expect(store.getSnapshot().changes.map((c) => c.seq)).toEqual(numbers(10, 12));
    off();
  });

  it('has no next page on a topic that fits one page, and none at all on an empty one', async () => {
    const small = await openPaginated(3, 10);
    expect(small.store.getSnapshot()).toMatchObject({ page: 0, hasNextPage: false });
    expect(small.data()).toEqual([1, 2, 3]);
    small.off();
    const empty = await openPaginated(0, 10);
    await empty.store.getSnapshot().nextPage();
    expect(empty.store.getSnapshot()).toMatchObject({ page: 0, changes: [], hasNextPage: false, loading: false });
    expect(empty.client.historyCalls).toHaveLength(1);
    empty.off();
  });

  it('stays on its page when loading the next one fails, with the error in `error`', async () => {
    const { client, store, off, data } = await openPaginated(20, 10);
    client.holdHistory = true;
    const moving = store.getSnapshot().nextPage();
    expect(store.getSnapshot().loading).toBe(true);
    client.heldHistory.splice(0).forEach((held) => held.fail(new ForbiddenError('no')));
    await moving;
    expect(store.getSnapshot()).toMatchObject({ page: 0, loading: false, error: { code: 'FORBIDDEN' } });
    expect(data()).toEqual(numbers(10, 11));
    off();
  });

  it('drops a page that arrives after the reader went back', async () => {
    const { client, store, off } = await openPaginated(30, 10);
    await store.getSnapshot().nextPage();
    client.holdHistory = true;
    const moving = store.getSnapshot().nextPage();
    await store.getSnapshot().prevPage();
    client.heldHistory.splice(0).forEach((held) => held.release());
    await moving;
    expect(store.getSnapshot().page).toBe(0);
    off();
  });
});
