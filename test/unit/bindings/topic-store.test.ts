import { describe, expect, it, vi } from 'vitest';
import { createTopicStore } from '../../../src/bindings/index.js';
import { MemoryClient, settle, untouchableClient } from './memory-client.js';

describe('createTopicStore', () => {
  it('does nothing until the first listener, then delivers the backlog and live changes', async () => {
    const client = new MemoryClient();
    client.publish('room', 'a', 'b');
    const store = createTopicStore<string>(client, 'room');
    expect(client.subscribeCalls).toEqual([]);
    expect(store.getSnapshot().changes).toEqual([]);

    const off = store.subscribe(() => undefined);
    await settle();
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(['a', 'b']);
    client.publish('room', 'c');
    await settle();
    expect(store.getSnapshot().changes.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(store.getSnapshot().error).toBeUndefined();
    off();
    expect(client.openSubscriptions('room')).toBe(0);
  });

  it('makes one snapshot per delivered batch and keeps it while nothing changes', async () => {
    const client = new MemoryClient();
    const store = createTopicStore(client, 'room');
    const listener = vi.fn();
    const off = store.subscribe(listener);
    client.publish('room', 1, 2, 3, 4, 5);
    await settle();
    expect(listener).toHaveBeenCalledTimes(1);
    const snapshot = store.getSnapshot();
    expect(snapshot.changes).toHaveLength(5);
    expect(store.getSnapshot()).toBe(snapshot);
    off();
  });

  it('resumes after the last change it received when listeners come back (no loss, no repeat)', async () => {
    const client = new MemoryClient();
    const store = createTopicStore(client, 'room', { since: 1 });
    client.publish('room', 'old', 'a');
    let off = store.subscribe(() => undefined);
    await settle();
    off();
    client.publish('room', 'b', 'c');
    off = store.subscribe(() => undefined);
    await settle();
    expect(client.subscribeCalls).toEqual([
      { topic: 'room', since: 1 },
      { topic: 'room', since: 2 },
    ]);
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(['a', 'b', 'c']);
    off();
  });

  it("opens one subscription through StrictMode's subscribe, unsubscribe, subscribe", async () => {
    const client = new MemoryClient();
    client.publish('room', 'a');
    const store = createTopicStore(client, 'room');
    store.subscribe(() => undefined)();
    const off = store.subscribe(() => undefined);
    await settle();
    expect(client.subscribeCalls).toHaveLength(1); // not subscribe, unsubscribe, subscribe
    expect(client.openSubscriptions('room')).toBe(1);
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(['a']);
    off();
  });

  it('reports a refused subscription in `error` and tries again when read anew', async () => {
    const client = new MemoryClient();
    client.forbidden.add('secret');
    client.publish('secret', 'x');
    const store = createTopicStore(client, 'secret');
    let off = store.subscribe(() => undefined);
    await settle();
    expect(store.getSnapshot().error).toMatchObject({ name: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(store.getSnapshot().changes).toEqual([]);
    off();

    client.forbidden.delete('secret');
    off = store.subscribe(() => undefined);
    expect(store.getSnapshot().error).toBeUndefined();
    await settle();
    expect(store.getSnapshot().changes.map((c) => c.data)).toEqual(['x']);
    off();
  });

  it('throws a TypeError for an empty topic or a bad `since`', () => {
    const client = new MemoryClient();
    expect(() => createTopicStore(client, '')).toThrow(TypeError);
    expect(() => createTopicStore(client, 'room', { since: -1 })).toThrow('"since" must be a non-negative integer');
    expect(() => createTopicStore(client, 'room', { since: 1.5 })).toThrow(TypeError);
  });

  it('has an empty, constant server snapshot and never touches the client to make it', () => {
    const store = createTopicStore(untouchableClient(), 'room');
    expect(store.getServerSnapshot()).toEqual({ changes: [], error: undefined });
    expect(store.getServerSnapshot()).toBe(store.getServerSnapshot());
  });
});
