import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { closeForUpgrade, openHostDatabase } from '../../../src/worker/host-database.js';
import { createOutboxStore } from '../../../src/worker/outbox-store.js';
import { createSessionStore } from '../../../src/worker/session-store.js';

describe('the host database', () => {
  it('keeps publishes and session writes working after the host closed it for a newer build (blocking)', async () => {
    const db = await openHostDatabase(`blocking-${crypto.randomUUID()}`);
    expect(db).toBeDefined();
    const outbox = createOutboxStore(db);
    const sessions = createSessionStore(db);
    const entry = { clientId: 'c1', userId: 'alice', topic: 't', data: 1, createdAt: 1, tabId: 'tab' };
    await outbox.add(entry);
    expect(await outbox.list('alice')).toEqual([entry]);

    closeForUpgrade(db!);
    // Before the fix, every call here rejected with InvalidStateError on the closed handle.
    await outbox.add({ ...entry, clientId: 'c2', createdAt: 2 });
    expect((await outbox.list('alice')).map((e) => e.clientId)).toEqual(['c2']);
    await outbox.remove('c2');
    await sessions.saveSession({
      id: 's',
      userId: 'alice',
      roles: [],
      expiresAt: null,
      clockOffsetMs: 0,
      buildId: 'b',
      serverUrl: 'ws://x',
      updatedAt: 1,
    });
    expect((await sessions.loadSession())?.id).toBe('s');
  });
});
