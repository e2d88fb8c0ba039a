import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import type { HostEvent, TabCallbacks } from '../../../src/protocol/host-api.js';
import type { HelloMessage } from '../../../src/protocol/messages.js';
import { HOST_API_VERSION } from '../../../src/protocol/version.js';
import type { StoredSession } from '../../../src/worker/host-database.js';
import { createOutboxStore } from '../../../src/worker/outbox-store.js';
import { SessionHost } from '../../../src/worker/session-host.js';
import type { SessionStore } from '../../../src/worker/session-store.js';
import { createTopicCacheStore } from '../../../src/worker/topic-cache-store.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeServer, tokenFor } from '../support/host-harness.js';

const HOUR = 3_600_000;
const SERVER_URL = 'ws://fake.test';

/** A session store whose reads and writes settle when the test says so (IndexedDB being slow). */
class HeldSessionStore implements SessionStore {
  stored: StoredSession | undefined;
  readonly #held: (() => void)[] = [];
  holdReads = true;
  holdWrites = false;

  /** Lets every held read and write go on. */
  release(): void {
    for (const go of this.#held.splice(0)) go();
  }

  get heldOperations(): number {
    return this.#held.length;
  }

  loadSession(): Promise<StoredSession | undefined> {
    return this.#after(this.holdReads, () => this.stored);
  }

  saveSession(session: StoredSession): Promise<void> {
    return this.#after(this.holdWrites, () => void (this.stored = session));
  }

  deleteSession(): Promise<void> {
    return this.#after(this.holdWrites, () => void (this.stored = undefined));
  }

  #after<T>(hold: boolean, operation: () => T): Promise<T> {
    if (!hold) return Promise.resolve(operation());
    return new Promise<T>((resolve) => this.#held.push(() => resolve(operation())));
  }
}

async function startHost(store: HeldSessionStore) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const host = new SessionHost({
    kind: 'shared-worker',
    buildId: 'unit-test',
    stores: {
      session: Promise.resolve(store),
      topics: Promise.resolve(createTopicCacheStore(undefined)),
      outbox: Promise.resolve(createOutboxStore(undefined)),
    },
    createSocket: server.createSocket,
    acquireOwnership: async () => ({ release: () => undefined, lost: new Promise<void>(() => undefined) }),
    clock,
    locks: undefined,
  });
  const tabId = crypto.randomUUID();
  const events: HostEvent[] = [];
  let handler: () => Promise<string | undefined> = async () => undefined;
  const callbacks: TabCallbacks & { [Comlink.releaseProxy](): void } = {
    refreshToken: () => handler(),
    [Comlink.releaseProxy]: () => undefined,
  };
  await host.attach(
    { tabId, lockName: `lock-${tabId}`, protocol: HOST_API_VERSION, buildId: 'unit-test', visible: true },
    callbacks,
    { postMessage: (message) => message.type === 'event' && events.push(message.event), close: () => undefined },
  );
  const start = (token: string, withHandler = false) =>
    host.startSession(tabId, {
      token,
      autoConnect: true,
      serverUrl: SERVER_URL,
      ...(withHandler && { refresh: { refreshId: crypto.randomUUID() } }),
    });
  const statuses = () => events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
  return {
    clock,
    server,
    start,
    statuses,
    setHandler: (next: typeof handler) => (handler = next),
  };
}

const hellos = (server: FakeServer) =>
  server.sockets.map((socket) => socket.sent.find((m): m is HelloMessage => m.type === 'hello'));

function storedFor(userId: string, now: number, clockOffsetMs = 0): StoredSession {
  return {
    id: 'stored-session-id',
    userId,
    roles: [],
    expiresAt: null,
    clockOffsetMs,
    buildId: 'unit-test',
    serverUrl: SERVER_URL,
    updatedAt: now,
  };
}

describe('first connect (spec §10: IndexedDB never sits in front of the socket)', () => {
  it('dials while the stored session is still being read, and says hello with its id once read', async () => {
    const store = new HeldSessionStore();
    const { clock, server, start, statuses } = await startHost(store);
    store.stored = storedFor('alice', clock.now());
    const started = start(tokenFor(clock.now(), HOUR));
    await clock.flush();

    expect(server.sockets, 'the socket opened before the read finished').toHaveLength(1);
    expect(server.open).toHaveLength(1);
    expect(hellos(server), 'no hello before the session id is known').toEqual([undefined]);

    store.release();
    const info = await started;
    expect(info.id, 'the stored session resumes').toBe('stored-session-id');
    expect(hellos(server)[0]?.sessionId).toBe('stored-session-id');
    expect(statuses()).toEqual(['CONNECTING', 'OPEN']);
    expect(server.sockets, 'one socket').toHaveLength(1);
  });

  it('reaches OPEN while the session record is still being written', async () => {
    const store = new HeldSessionStore();
    store.holdReads = false;
    store.holdWrites = true;
    const { clock, server, start, statuses } = await startHost(store);
    let resolved = false;
    const started = start(tokenFor(clock.now(), HOUR)).then((info) => {
      resolved = true;
      return info;
    });
    await clock.flush();

    expect(statuses(), 'hello and welcome did not wait for the write').toEqual(['CONNECTING', 'OPEN']);
    expect(store.heldOperations).toBeGreaterThan(0);
    expect(resolved, 'startSession resolves once the record is written').toBe(false);
    store.release();
    await clock.flush();
    store.release(); // the write after welcome (clock offset)
    const info = await started;
    expect(store.stored?.id).toBe(info.id);
    expect(server.sockets).toHaveLength(1);
  });

  it('closes the socket unused and refreshes first when the stored clock offset shows the token expired', async () => {
    const store = new HeldSessionStore();
    const { clock, server, start, setHandler } = await startHost(store);
    // The server's clock ran two hours ahead at the last connect: a one-hour token is expired there.
    store.stored = storedFor('alice', clock.now(), 2 * HOUR);
    const refreshed = tokenFor(clock.now() + 2 * HOUR, HOUR);
    setHandler(async () => refreshed);
    const started = start(tokenFor(clock.now(), HOUR), true);
    await clock.flush();
    expect(server.sockets, 'dialed ahead on the local clock').toHaveLength(1);

    store.release();
    await started;
    expect(hellos(server)[0], 'the first socket never said hello with the expired token').toBeUndefined();
    expect(server.sockets[0]?.readyState).toBe(3);
    expect(hellos(server).at(-1)?.token, 'the session connects with the refreshed token').toBe(refreshed);
    expect(server.open).toHaveLength(1);
  });

  it('leaves no socket when a start is refused after the read', async () => {
    const store = new HeldSessionStore();
    const { clock, server, start, statuses } = await startHost(store);
    store.stored = storedFor('alice', clock.now(), 2 * HOUR);
    const started = start(tokenFor(clock.now(), HOUR));
    await clock.flush();
    store.release();
    await expect(started).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await clock.flush();
    expect(server.open, 'the socket dialed ahead was closed').toHaveLength(0);
    expect(hellos(server)).toEqual([undefined]);
    expect(statuses().at(-1)).toBe('CLOSED');
  });
});
