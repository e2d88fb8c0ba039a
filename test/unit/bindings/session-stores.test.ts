import { describe, expect, it, vi } from 'vitest';
import { connectionStatusStore, sessionErrorEvents, sessionStore } from '../../../src/bindings/index.js';
import { MemoryClient, sessionInfo, untouchableClient } from './memory-client.js';

describe('connectionStatusStore', () => {
  it('reads the client while nobody listens, and listens to it only while someone does', () => {
    const client = new MemoryClient();
    const store = connectionStatusStore(client);
    client.setStatus('CONNECTING');
    expect(store.getSnapshot()).toBe('CONNECTING');
    expect(client.statusListeners.size).toBe(0);

    const offA = store.subscribe(() => undefined);
    const offB = store.subscribe(() => undefined);
    expect(client.statusListeners.size).toBe(1);
    offA();
    offA(); // a second call of the same unsubscribe is ignored
    expect(client.statusListeners.size).toBe(1);
    offB();
    expect(client.statusListeners.size).toBe(0);
  });

  it("leaves one client listener after StrictMode's subscribe, unsubscribe, subscribe", () => {
    const client = new MemoryClient();
    const store = connectionStatusStore(client);
    const listener = vi.fn();
    store.subscribe(listener)();
    const off = store.subscribe(listener);
    expect(client.statusListeners.size).toBe(1);
    client.setStatus('OPEN');
    expect(listener).toHaveBeenCalledTimes(1);
    off();
  });

  it('notifies once per status change and never for a session change such as a token refresh', () => {
    const client = new MemoryClient();
    const store = connectionStatusStore(client);
    const seen: string[] = [];
    const off = store.subscribe(() => seen.push(store.getSnapshot()));
    client.setStatus('CONNECTING');
    client.setStatus('OPEN');
    for (let i = 0; i < 100; i++) client.setSession(sessionInfo({ expiresAt: 20_000 + i }));
    expect(seen).toEqual(['CONNECTING', 'OPEN']);
    off();
  });

  it('is one store per client', () => {
    const client = new MemoryClient();
    expect(connectionStatusStore(client)).toBe(connectionStatusStore(client));
    expect(connectionStatusStore(new MemoryClient())).not.toBe(connectionStatusStore(client));
  });

  it('has a server snapshot that never touches the client', () => {
    expect(connectionStatusStore(new MemoryClient()).getServerSnapshot()).toBe('UNINITIALIZED');
    expect(sessionStore(untouchableClient()).getServerSnapshot()).toBeUndefined();
  });

  it('keeps notifying the other listeners when one throws, and reports the throw', async () => {
    const client = new MemoryClient();
    const store = connectionStatusStore(client);
    const thrown: unknown[] = [];
    const onUncaught = (error: unknown) => thrown.push(error);
    process.on('uncaughtException', onUncaught);
    const after = vi.fn();
    const offA = store.subscribe(() => {
      throw new Error('listener failed');
    });
    const offB = store.subscribe(after);
    client.setStatus('OPEN');
    expect(after).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    process.off('uncaughtException', onUncaught);
    expect(thrown).toEqual([new Error('listener failed')]);
    offA();
    offB();
  });

  it('refuses a listener that is not a function', () => {
    expect(() => connectionStatusStore(new MemoryClient()).subscribe(42 as never)).toThrow(TypeError);
  });
});

describe('sessionStore', () => {
  it('reads the current session on the first read without leaving a client listener', () => {
    const client = new MemoryClient();
    const session = sessionInfo();
    client.setSession(session);
    const store = sessionStore(client);
    expect(store.getSnapshot()).toBe(session);
    expect(client.sessionListeners.size).toBe(0);
  });

  it('keeps the same snapshot object while the session is the same, field by field', () => {
    const client = new MemoryClient();
    const store = sessionStore(client);
    const listener = vi.fn();
    const off = store.subscribe(listener);
    client.setSession(sessionInfo());
    const first = store.getSnapshot();
    client.setSession(sessionInfo());
    client.setSession(sessionInfo({ roles: ['user'] }));
    expect(store.getSnapshot()).toBe(first);
    expect(listener).toHaveBeenCalledTimes(1);

    client.setSession(sessionInfo({ tabs: 2 }));
    expect(store.getSnapshot()?.tabs).toBe(2);
    client.setSession(sessionInfo({ tabs: 2, roles: ['admin'] }));
    expect(store.getSnapshot()?.roles).toEqual(['admin']);
    client.setSession(undefined);
    expect(store.getSnapshot()).toBeUndefined();
    expect(listener).toHaveBeenCalledTimes(4);
    off();
    expect(client.sessionListeners.size).toBe(0);
  });
});

describe('sessionErrorEvents', () => {
  it('delivers every error to every listener over one client listener, removed with the last', () => {
    const client = new MemoryClient();
    const events = sessionErrorEvents(client);
    const a = vi.fn();
    const b = vi.fn();
    const offA = events.subscribe(a);
    const offB = events.subscribe(b);
    expect(client.errorListeners.size).toBe(1);
    client.failSession('TOKEN_EXPIRED');
    client.failSession('TOKEN_EXPIRED');
    expect(a.mock.calls).toEqual([['TOKEN_EXPIRED'], ['TOKEN_EXPIRED']]);
    expect(b).toHaveBeenCalledTimes(2);
    offA();
    client.failSession('UNAUTHORIZED');
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenLastCalledWith('UNAUTHORIZED');
    offB();
    expect(client.errorListeners.size).toBe(0);
  });
});
