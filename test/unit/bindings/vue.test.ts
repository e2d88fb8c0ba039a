import { afterAll, describe, expect, it } from 'vitest';
import { MemoryClient, sessionInfo, settle } from './memory-client.js';

// The composables hold server snapshots where there is no `window` (server rendering): give this
// file one, so that they subscribe like in a browser. vue-ssr.test.ts covers the server side.
const addedWindow = !('window' in globalThis);
if (addedWindow) Object.assign(globalThis, { window: globalThis });
afterAll(() => {
  if (addedWindow) Reflect.deleteProperty(globalThis, 'window');
});
const { createApp, effectScope, nextTick, ref } = await import('vue');
const B = await import('../../../src/vue/index.js');

/** Runs `fn` like a component's setup: with the client provided, in a scope the test stops. */
function setup<T>(client: MemoryClient, fn: () => T): { result: T; stop: () => void } {
  const app = createApp({});
  app.provide(B.SESSION_CLIENT_KEY, client);
  const scope = effectScope();
  const result = app.runWithContext(() => scope.run(fn)) as T;
  return { result, stop: () => scope.stop() };
}

describe('shared-session/vue', () => {
  it('keeps useConnectionStatus and useSession refs in step, and stops listening with the scope', () => {
    const client = new MemoryClient();
    const { result, stop } = setup(client, () => ({ status: B.useConnectionStatus(), session: B.useSession() }));
    expect(result.status.value).toBe('UNINITIALIZED');
    client.setStatus('OPEN');
    client.setSession(sessionInfo({ userId: 'ada' }));
    expect(result.status.value).toBe('OPEN');
    expect(result.session.value?.userId).toBe('ada');
    stop();
    expect(client.statusListeners.size).toBe(0);
    expect(client.sessionListeners.size).toBe(0);
  });

  it('follows a topic given as a ref: a new topic replaces the subscription', async () => {
    const client = new MemoryClient();
    client.publish('a', 'a1');
    client.publish('b', 'b1', 'b2');
    const topic = ref('a');
    const { result, stop } = setup(client, () => B.useTopic<string>(topic));
    await settle();
    expect(result.changes.value.map((c) => c.data)).toEqual(['a1']);
    topic.value = 'b';
    await nextTick();
    await settle();
    expect(result.changes.value.map((c) => c.data)).toEqual(['b1', 'b2']);
    expect(client.openSubscriptions('a')).toBe(0);
    expect(client.openSubscriptions('b')).toBe(1);
    stop();
    expect(client.openSubscriptions('b')).toBe(0);
  });

  it('pages an infinite topic back through its refs and loadMore', async () => {
    const client = new MemoryClient();
    client.publish('chat', ...Array.from({ length: 8 }, (_, i) => i + 1));
    const { result, stop } = setup(client, () => B.useInfiniteTopic<number>('chat', { pageSize: 5 }));
    await settle();
    expect(result.changes.value.map((c) => c.data)).toEqual([4, 5, 6, 7, 8]);
    expect(result.hasMore.value).toBe(true);
    await result.loadMore();
    expect(result.changes.value.map((c) => c.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.hasMore.value).toBe(false);
    stop();
  });

  it('walks a paginated topic through its refs', async () => {
    const client = new MemoryClient();
    client.publish('log', ...Array.from({ length: 8 }, (_, i) => i + 1));
    const { result, stop } = setup(client, () => B.usePaginatedTopic<number>('log', { pageSize: 5 }));
    await settle();
    await result.nextPage();
    expect(result.page.value).toBe(1);
    expect(result.changes.value.map((c) => c.data)).toEqual([1, 2, 3]);
    expect(result.hasNextPage.value).toBe(false);
    await result.prevPage();
    expect(result.hasPreviousPage.value).toBe(false);
    stop();
  });

  it('calls the useSessionError callback until the scope stops', () => {
    const client = new MemoryClient();
    const seen: string[] = [];
    const { stop } = setup(client, () => B.useSessionError((type) => seen.push(type)));
    client.failSession('TOKEN_EXPIRED');
    stop();
    client.failSession('UNAUTHORIZED');
    expect(seen).toEqual(['TOKEN_EXPIRED']);
  });

  it('says how to provide the client when none was', () => {
    const app = createApp({});
    expect(() => app.runWithContext(() => B.useConnectionStatus())).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('provideSessionClient') }),
    );
  });
});
