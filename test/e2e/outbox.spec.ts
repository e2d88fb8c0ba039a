import type { Page } from '@playwright/test';
import type { TopicStore } from '../../src/server/index.ts';
import {
  createTcpProxy,
  expect,
  loadServerModule,
  openSession,
  test,
  type SessionServer,
  type TcpProxy,
} from './fixtures.ts';
import {
  publishLog,
  publishOutcome,
  received,
  reloadTab,
  startOffline,
  startPublish,
  subscribe,
  waitForChanges,
  waitForHost,
} from './topic-helpers.ts';

/** Takes the network away and waits until both the server and the tabs noticed. */
async function goOffline(proxy: TcpProxy, server: SessionServer, tabs: Page[]): Promise<void> {
  proxy.cut();
  await expect.poll(() => server.stats().sockets, 'the server saw the socket go').toBe(0);
  for (const tab of tabs) await tab.waitForFunction(() => window.client.connectionStatus !== 'OPEN');
}

/**
 * Publishes a marker as the server and waits for it in `tab`: once it arrived, every earlier change
 * did too, so the subscription's log is complete up to it (no "wait and hope nothing else comes").
 */
async function publishMarker(server: SessionServer, tab: Page, label: string): Promise<number> {
  const { seq } = await server.publish('chat', { marker: true });
  await waitForChanges(tab, label, seq);
  return seq;
}

/**
 * A store that stores an append, then holds its answer until released: the server cannot
 * acknowledge the publish meanwhile, so a test can cut the socket between "stored" and "acknowledged".
 */
function ackHoldingStore(inner: TopicStore) {
  let next: { stored: () => void; released: Promise<void> } | undefined;
  const store: TopicStore = {
    async append(topic, data, options) {
      const result = await inner.append(topic, data, options);
      const hold = options?.clientId === undefined ? undefined : next;
      if (hold) {
        next = undefined;
        hold.stored();
        await hold.released;
      }
      return result;
    },
    read: (topic, after, limit, options) => inner.read(topic, after, limit, options),
    readBefore: (topic, before, limit, options) => inner.readBefore(topic, before, limit, options),
    head: (topic) => inner.head(topic),
    close: () => inner.close(),
  };
  /** Holds the answer of the next client publish; `stored` resolves once it is in the store. */
  const holdNextClientPublish = () => {
    let stored!: () => void;
    let release!: () => void;
    const storedPromise = new Promise<void>((resolve) => (stored = resolve));
    next = { stored, released: new Promise<void>((resolve) => (release = resolve)) };
    return { stored: storedPromise, release };
  };
  return { store, holdNextClientPublish };
}

test.describe('the outbox: publish exactly once (spec §5)', () => {
  test('a publish made offline and followed by a reload of that tab before the network returns is stored exactly once', async ({
    server,
    serverProxy,
    mintToken,
    openTabs,
  }) => {
    const [publisher, watcher] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of [publisher!, watcher!]) {
      await openSession(tab, serverProxy.url, token);
      await subscribe(tab, 'chat', 'chat');
    }
    await goOffline(serverProxy, server, [publisher!, watcher!]);
    const storedBefore = server.stats().changesStored;

    await startPublish(publisher!, 'chat', { text: 'written offline' });
    await waitForHost(publisher!, (s) => s.outbox === 1, 'the publish waits in the outbox');
    await reloadTab(publisher!);
    await startOffline(publisher!, serverProxy.url, token);
    await subscribe(publisher!, 'chat', 'chat');

    serverProxy.restore();
    await waitForChanges(watcher!, 'chat', 1);
    await waitForHost(watcher!, (s) => s.outbox === 0, 'the outbox drained');
    expect(server.stats().changesStored - storedBefore, 'stored once').toBe(1);

    const marker = await publishMarker(server, watcher!, 'chat');
    await waitForChanges(publisher!, 'chat', marker);
    for (const tab of [watcher!, publisher!]) {
      const { changes } = await received(tab, 'chat');
      expect(changes.map((c) => c.seq)).toEqual([1, 2]);
      expect(changes[0]!.data).toEqual({ text: 'written offline' });
    }
  });

  test('the publish promise of a tab that stayed open resolves with { seq } once the network is back', async ({
    server,
    serverProxy,
    mintToken,
    openTabs,
  }) => {
    const [publisher, watcher] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of [publisher!, watcher!]) {
      await openSession(tab, serverProxy.url, token);
      await subscribe(tab, 'chat', 'chat');
    }
    await server.publish('chat', { text: 'before the outage' });
    await waitForChanges(watcher!, 'chat', 1);
    await goOffline(serverProxy, server, [publisher!, watcher!]);

    const id = await startPublish(publisher!, 'chat', { text: 'sent while offline' });
    await waitForHost(publisher!, (s) => s.outbox === 1, 'the publish waits in the outbox');
    expect((await publishLog(publisher!, id)).outcome, 'pending while offline').toBeUndefined();

    const restoredAt = Date.now();
    serverProxy.restore();
    const outcome = await publishOutcome(publisher!, id);
    const resolvedMs = Date.now() - restoredAt;
    console.log(`outbox: a publish made offline resolved ${resolvedMs} ms after restore`);

    expect(outcome).toMatchObject({ ok: true, value: { seq: 2 } });
    const { changes } = await waitForChanges(watcher!, 'chat', 2);
    expect(changes[1]).toMatchObject({ seq: 2, data: { text: 'sent while offline' } });
    expect(server.stats().changesStored).toBe(2);
  });

  test('a publish stored by the server whose acknowledgement was lost is stored once when the host sends it again', async ({
    startServer,
    mintToken,
    openTabs,
  }) => {
    const { createMemoryTopicStore } = await loadServerModule();
    const holding = ackHoldingStore(createMemoryTopicStore());
    const server = await startServer({ store: holding.store });
    const proxy = await createTcpProxy({ port: server.port });
    try {
      const [publisher, watcher] = await openTabs(2);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of [publisher!, watcher!]) {
        await openSession(tab, proxy.url, token);
        await subscribe(tab, 'chat', 'chat');
      }
      await expect.poll(() => server.stats().subscriptions).toBe(1);

      const held = holding.holdNextClientPublish();
      const id = await startPublish(publisher!, 'chat', { text: 'exactly once' });
      await held.stored; // in the store; the server's answer waits for the append's promise
      await goOffline(proxy, server, [publisher!, watcher!]);
      held.release(); // the `published` answer now goes to a closed socket
      await expect.poll(() => server.stats().changesStored).toBe(1);

      expect((await publishLog(publisher!, id)).outcome, 'not acknowledged').toBeUndefined();
      proxy.restore();
      const outcome = await publishOutcome(publisher!, id);
      expect(outcome, 'the resend is answered with the original seq').toMatchObject({ ok: true, value: { seq: 1 } });
      expect(server.stats().changesStored, 'the resend stored nothing').toBe(1);
      await waitForHost(publisher!, (s) => s.outbox === 0, 'the outbox drained');

      const marker = await publishMarker(server, watcher!, 'chat');
      expect(marker).toBe(2);
      for (const tab of [watcher!, publisher!]) {
        await waitForChanges(tab, 'chat', marker);
        const { changes } = await received(tab, 'chat');
        expect(changes.map((c) => c.seq)).toEqual([1, 2]);
        expect(changes[0]!.data).toEqual({ text: 'exactly once' });
      }
    } finally {
      await proxy.close();
    }
  });
});
