import { describe, expect, it, vi } from 'vitest';
import { createInfiniteTopicStore } from '../../../src/bindings/index.js';
import { ForbiddenError } from '../../../src/errors/index.js';
import { MemoryClient, settle, untouchableClient } from './memory-client.js';

const numbers = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

describe('createInfiniteTopicStore', () => {
  it('shows the newest page, then live changes after it, subscribing only after the page', async () => {
    const client = new MemoryClient();
    client.publish('chat', ...numbers(25));
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    expect(store.getSnapshot()).toMatchObject({ changes: [], loading: true, hasMore: false });
    expect(client.historyCalls).toEqual([]);

    const off = store.subscribe(() => undefined);
    await settle();
    expect(client.historyCalls).toEqual([{ topic: 'chat', options: { limit: 10 } }]);
    expect(client.subscribeCalls).toEqual([{ topic: 'chat', since: 25 }]);
    expect(store.getSnapshot()).toMatchObject({ hasMore: true, loading: false, error: undefined });
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(numbers(10, 16));

    client.publish('chat', 26, 27);
    await settle();
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(numbers(12, 16));
    off();
    expect(client.openSubscriptions('chat')).toBe(0);
  });

  it('pages back with loadMore to the start of the topic, then has no more', async () => {
    const client = new MemoryClient();
    client.publish('chat', ...numbers(25));
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    const off = store.subscribe(() => undefined);
    await settle();
    await store.getSnapshot().loadMore();
    expect(client.historyCalls.at(-1)).toEqual({ topic: 'chat', options: { before: 16, limit: 10 } });
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(numbers(20, 6));
    expect(store.getSnapshot().hasMore).toBe(true);
    await store.getSnapshot().loadMore();
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(numbers(25));
    expect(store.getSnapshot().hasMore).toBe(false);

    await store.getSnapshot().loadMore(); // nothing older: no request
    expect(client.historyCalls).toHaveLength(3);
    off();
  });

  it('sends one request for loadMore calls made while one is in flight, and stays live meanwhile', async () => {
    const client = new MemoryClient();
    client.publish('chat', ...numbers(30));
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    const off = store.subscribe(() => undefined);
    await settle();
    client.holdHistory = true;
    const first = store.getSnapshot().loadMore();
    const second = store.getSnapshot().loadMore();
    expect(second).toBe(first);
    expect(store.getSnapshot().loading).toBe(true);
    client.publish('chat', 31);
    await settle();
    client.heldHistory.splice(0).forEach((held) => held.release());
    await first;
    expect(client.historyCalls).toHaveLength(2);
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(numbers(21, 11));
    expect(store.getSnapshot().loading).toBe(false);
    off();
  });

  it("asks for the newest page once and subscribes once through StrictMode's double mount", async () => {
    const client = new MemoryClient();
    client.publish('chat', 1, 2);
    client.holdHistory = true;
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    store.subscribe(() => undefined)();
    const off = store.subscribe(() => undefined);
    expect(client.historyCalls).toHaveLength(1);
    client.heldHistory.splice(0).forEach((held) => held.release());
    await settle();
    expect(client.subscribeCalls).toEqual([{ topic: 'chat', since: 2 }]);
    expect(client.openSubscriptions('chat')).toBe(1);
    off();
  });

  it('keeps the page that arrived while nobody listened, and subscribes after it on the next listener', async () => {
    const client = new MemoryClient();
    client.publish('chat', 1, 2, 3);
    client.holdHistory = true;
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    store.subscribe(() => undefined)();
    client.heldHistory.splice(0).forEach((held) => held.release());
    await settle();
    expect(client.subscribeCalls).toEqual([]);
    client.publish('chat', 4);
    const off = store.subscribe(() => undefined);
    await settle();
    expect(client.historyCalls).toHaveLength(1);
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual([1, 2, 3, 4]);
    off();
  });

  it('starts an empty topic live from its first change', async () => {
    const client = new MemoryClient();
    const store = createInfiniteTopicStore<string>(client, 'empty');
    const off = store.subscribe(() => undefined);
    await settle();
    expect(client.historyCalls).toEqual([{ topic: 'empty', options: { limit: 50 } }]);
    expect(client.subscribeCalls).toEqual([{ topic: 'empty', since: 0 }]);
    client.publish('empty', 'first');
    await settle();
    expect(store.getSnapshot()).toMatchObject({ hasMore: false, changes: [{ seq: 1, data: 'first' }] });
    off();
  });

  it('reports a refused history in `error`, and asks again when read anew', async () => {
    const client = new MemoryClient();
    client.forbidden.add('chat');
    const store = createInfiniteTopicStore(client, 'chat');
    const listener = vi.fn();
    let off = store.subscribe(listener);
    await settle();
    expect(store.getSnapshot().error).toBeInstanceOf(ForbiddenError);
    expect(store.getSnapshot().loading).toBe(false);
    expect(client.subscribeCalls).toEqual([]);
    off();
    client.forbidden.delete('chat');
    client.publish('chat', 'ok');
    off = store.subscribe(listener);
    await settle();
    expect(store.getSnapshot()).toMatchObject({ error: undefined, changes: [{ data: 'ok' }] });
    off();
  });

  it('reports a failed loadMore in `error` and keeps what it had (loadMore never rejects)', async () => {
    const client = new MemoryClient();
    client.publish('chat', ...numbers(20));
    const store = createInfiniteTopicStore<number>(client, 'chat', { pageSize: 10 });
    const off = store.subscribe(() => undefined);
    await settle();
    client.holdHistory = true;
    const loading = store.getSnapshot().loadMore();
    client.heldHistory.splice(0).forEach((held) => held.fail(new ForbiddenError('roles changed')));
    await expect(loading).resolves.toBeUndefined();
    expect(store.getSnapshot()).toMatchObject({ loading: false, hasMore: true, error: { code: 'FORBIDDEN' } });
    expect(store.getSnapshot().changes).toHaveLength(10);
    off();
  });

  it('reports a client without `history` in `error` instead of throwing from subscribe', async () => {
    const client = new MemoryClient();
    Object.assign(client, { history: undefined });
    const store = createInfiniteTopicStore(client, 'chat');
    const off = store.subscribe(() => undefined);
    await settle();
    expect(store.getSnapshot()).toMatchObject({ loading: false, error: { code: 'INTERNAL' } });
    off();
  });

  it('throws a TypeError for a bad pageSize, and makes its server snapshot without the client', () => {
    expect(() => createInfiniteTopicStore(new MemoryClient(), 'chat', { pageSize: 0 })).toThrow(
      '"pageSize" must be a positive integer',
    );
    const store = createInfiniteTopicStore(untouchableClient(), 'chat');
    expect(store.getServerSnapshot()).toMatchObject({ changes: [], hasMore: false, error: undefined });
  });
});
