import { afterAll, describe, expect, it } from 'vitest';
import { MemoryClient, settle } from './memory-client.js';

// The stores hold server snapshots where there is no `window` (server rendering): give this file
// one, so that they subscribe like in a browser.
const addedWindow = !('window' in globalThis);
if (addedWindow) Object.assign(globalThis, { window: globalThis });
afterAll(() => {
  if (addedWindow) Reflect.deleteProperty(globalThis, 'window');
});
const { get } = await import('svelte/store');
const B = await import('../../../src/svelte/index.js');

describe('shared-session/svelte', () => {
  it('keeps the store contract: the value at once on subscribe, then every change, until unsubscribed', () => {
    const client = new MemoryClient();
    const status = B.useConnectionStatus(client);
    const seen: string[] = [];
    const off = status.subscribe((value) => seen.push(value));
    client.setStatus('CONNECTING');
    client.setStatus('OPEN');
    expect(seen).toEqual(['UNINITIALIZED', 'CONNECTING', 'OPEN']);
    expect(get(status)).toBe('OPEN');
    off();
    expect(client.statusListeners.size).toBe(0);
  });

  it('streams a topic and pages an infinite topic with the loadMore in its value', async () => {
    const client = new MemoryClient();
    client.publish('chat', 1, 2, 3, 4, 5, 6);
    const live = B.useTopic<number>('chat', { client, since: 4 });
    const feed = B.useInfiniteTopic<number>('chat', { client, pageSize: 4 });
    const offLive = live.subscribe(() => undefined);
    let value = get(feed);
    const offFeed = feed.subscribe((next) => (value = next));
    await settle();
    expect(get(live).changes.map((c) => c.data)).toEqual([5, 6]);
    expect(value.changes.map((c) => c.data)).toEqual([3, 4, 5, 6]);
    await value.loadMore();
    expect(value.changes.map((c) => c.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(value.hasMore).toBe(false);
    offLive();
    offFeed();
    expect(client.subscribers.size).toBe(0);
  });
});
