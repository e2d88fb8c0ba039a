import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors/index.js';
import type { PublishOutcome } from '../../../src/protocol/host-api.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { Outbox, type OutboxLink } from '../../../src/worker/outbox.js';
import { openHostDatabase } from '../../../src/worker/host-database.js';
import { createOutboxStore } from '../../../src/worker/outbox-store.js';
import type { RequestBody } from '../../../src/worker/server-connection.js';

/** A server stand-in that stores each client id once and can fail on demand. */
class FakeServer implements OutboxLink {
  stored = new Map<string, number>();
  sent: string[] = [];
  failWith: SessionError | undefined;
  async request(body: RequestBody): Promise<ServerMessage> {
    if (body.type !== 'publish') throw new Error('unexpected');
    this.sent.push(body.clientId);
    if (this.failWith) throw this.failWith;
    const duplicate = this.stored.has(body.clientId);
    if (!duplicate) this.stored.set(body.clientId, this.stored.size + 1);
    return { type: 'published', id: 0, topic: body.topic, seq: this.stored.get(body.clientId)!, duplicate };
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup(store = createOutboxStore(undefined)) {
  const outcomes: [string, PublishOutcome][] = [];
  const outbox = new Outbox(Promise.resolve(store), (_tabId, clientId, outcome) => outcomes.push([clientId, outcome]));
  outbox.setUser('alice');
  return { outbox, outcomes, store };
}

describe('Outbox', () => {
  it('keeps a publish made while disconnected and sends it once connected', async () => {
    const { outbox, outcomes } = setup();
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: 1 });
    expect(outbox.size).toBe(1);
    const server = new FakeServer();
    outbox.onConnected(server);
    await settle();
    expect(outcomes).toEqual([['c1', { ok: true, seq: 1, duplicate: false }]]);
    expect(outbox.size).toBe(0);
  });

  it('sends again after a disconnect and the server stores it exactly once', async () => {
    const { outbox, outcomes } = setup();
    const server = new FakeServer();
    server.failWith = new SessionError('DISCONNECTED', 'gone');
    outbox.onConnected(server);
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: 1 });
    await settle();
    outbox.onDisconnected();
    // It reached the server but the answer was lost: the retry is recognised as a duplicate.
    server.stored.set('c1', 1);
    server.failWith = undefined;
    outbox.onConnected(server);
    await settle();
    expect(server.stored.size).toBe(1);
    expect(outcomes).toEqual([['c1', { ok: true, seq: 1, duplicate: true }]]);
  });

  it('survives a host restart through its store', async () => {
    const { outbox, store } = setup();
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: { a: 1 } });
    await outbox.enqueue('tab', { clientId: 'c2', topic: 't', data: { a: 2 } });
    const restarted = setup(store);
    const server = new FakeServer();
    restarted.outbox.onConnected(server);
    await settle();
    await settle();
    expect(server.sent).toEqual(['c1', 'c2']);
    expect(restarted.outcomes.map(([id]) => id)).toEqual(['c1', 'c2']);
  });

  it('drops a refused publish and reports the typed error', async () => {
    const { outbox, outcomes } = setup();
    const server = new FakeServer();
    server.failWith = new SessionError('FORBIDDEN', 'no writing here');
    outbox.onConnected(server);
    await outbox.enqueue('tab', { clientId: 'c1', topic: 'secret', data: 1 });
    await settle();
    expect(outcomes).toEqual([['c1', { ok: false, code: 'FORBIDDEN', message: 'no writing here' }]]);
    expect(outbox.size).toBe(0);
  });

  it('refuses what cannot be sent before storing it', async () => {
    const { outbox } = setup();
    await expect(outbox.enqueue('tab', { clientId: 'c', topic: '', data: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      outbox.enqueue('tab', { clientId: 'c', topic: 't', data: 'x'.repeat(300 * 1024) }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(outbox.size).toBe(0);
  });

  it('never sends one user’s outbox in another user’s session', async () => {
    const { outbox, store } = setup();
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: 1 });
    outbox.setUser('bob');
    const server = new FakeServer();
    outbox.onConnected(server);
    await settle();
    expect(server.sent).toEqual([]);
    expect(await store.list('alice')).toHaveLength(1);
  });
});

describe('Outbox order', () => {
  it('keeps the order of publishes made within one millisecond across a host restart', async () => {
    // The real IndexedDB store (fake-indexeddb in Node): its (userId, createdAt) index orders ties by key.
    const { outbox, store } = setup(createOutboxStore(await openHostDatabase(`outbox-order-${crypto.randomUUID()}`)));
    const ids = Array.from({ length: 20 }, (_, n) => `c${n}`);
    await Promise.all(ids.map((clientId, n) => outbox.enqueue('tab', { clientId, topic: 't', data: n })));
    const restarted = setup(store);
    const server = new FakeServer();
    restarted.outbox.onConnected(server);
    await settle();
    await settle();
    expect(server.sent).toEqual(ids);
  });

  it('keeps one entry when a tab sends the same publish again', async () => {
    const { outbox } = setup();
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: 1 });
    await outbox.enqueue('tab', { clientId: 'c1', topic: 't', data: 1 });
    expect(outbox.size).toBe(1);
  });
});
