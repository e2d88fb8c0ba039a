import type { Page } from '@playwright/test';
import {
  expect,
  openSession,
  quietPeriod,
  test,
  waitForStatus,
  type SessionServer,
  type TcpProxy,
} from './fixtures.ts';
import {
  publishOnServer,
  received,
  reloadTab,
  startOffline,
  storedCursor,
  subscribe,
  waitForChanges,
  waitForHost,
  waitForSubscriptionError,
} from './topic-helpers.ts';

/**
 * How long a subscription made while the server is unreachable gets to show cached changes. The
 * host delivers its cache as soon as the subscription is registered (a few ms, see the positive case
 * "endSession keeps the cache"); this allows for a busy machine.
 */
const CACHE_DELIVERY_WINDOW_MS = 400;

/** Takes the network away and waits until the server has no socket left. */
async function cutNetwork(proxy: TcpProxy, server: SessionServer): Promise<void> {
  proxy.cut();
  await expect.poll(() => server.stats().sockets, 'the server saw the socket go').toBe(0);
}

/** Subscribes `page` while offline and waits until the host registered it (its cache, if any, is then on its way). */
async function subscribeOffline(page: Page, subscriptions: [label: string, topic: string][]): Promise<void> {
  // Subscriptions of the tab before its reload are dropped once the host sees that tab gone.
  await waitForHost(page, (s) => s.tabSubscriptions === 0, 'no subscriptions of gone tabs');
  for (const [label, topic] of subscriptions) await subscribe(page, label, topic);
  await waitForHost(page, (s) => s.tabSubscriptions === subscriptions.length, 'subscriptions registered');
}

/** Alice's tab subscribed to `news` with 3 changes received, and the host's cache of them written. */
async function aliceWithCachedNews(page: Page, server: SessionServer, url: string, token: string): Promise<void> {
  await openSession(page, url, token);
  await subscribe(page, 'news', 'news');
  await publishOnServer(server, 'news', 3, (n) => ({ news: n }));
  await waitForChanges(page, 'news', 3);
  await expect.poll(() => storedCursor(page, 'alice', 'news'), 'news cached in IndexedDB').toBe(3);
}

test.describe("the host's cache is per user (spec §5)", () => {
  test("user B signing in after user A on the same browser sees none of A's cached changes", async ({
    server,
    serverProxy,
    mintToken,
    openTab,
  }) => {
    const aliceTab = await openTab();
    await aliceWithCachedNews(aliceTab, server, serverProxy.url, await mintToken({ sub: 'alice' }));
    await subscribe(aliceTab, 'private', 'user:alice');
    await publishOnServer(server, 'user:alice', 2, (n) => ({ private: n }));
    await waitForChanges(aliceTab, 'private', 2);
    await expect.poll(() => storedCursor(aliceTab, 'alice', 'user:alice'), 'private changes cached').toBe(2);
    await aliceTab.close();

    // Bob signs in on the same browser profile (same SharedWorker, same IndexedDB) while the
    // server is unreachable: whatever his subscriptions deliver now can only come from the cache.
    const bobTab = await openTab();
    await cutNetwork(serverProxy, server);
    await startOffline(bobTab, serverProxy.url, await mintToken({ sub: 'bob' }));
    await subscribeOffline(bobTab, [
      ['news', 'news'],
      ['alice', 'user:alice'],
    ]);
    await quietPeriod(bobTab, CACHE_DELIVERY_WINDOW_MS);
    expect((await received(bobTab, 'news')).changes, "alice's cached news").toEqual([]);
    expect((await received(bobTab, 'alice')).changes, "alice's private changes").toEqual([]);

    const sentBefore = server.stats().changesSent;
    serverProxy.restore();
    const news = await waitForChanges(bobTab, 'news', 3);
    expect(news.changes.map((c) => c.data)).toEqual([{ news: 1 }, { news: 2 }, { news: 3 }]);
    expect(server.stats().changesSent - sentBefore, "bob's news came from the server").toBe(3);
    const denied = await waitForSubscriptionError(bobTab, 'alice');
    expect(denied.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(denied.changes).toEqual([]);
  });

  test('clear() wipes the cache: after clear and a reload, a subscription made while offline delivers nothing', async ({
    server,
    serverProxy,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice' });
    await aliceWithCachedNews(page, server, serverProxy.url, token);
    const cleared = await page.evaluate(() => window.harness.call('clear'));
    expect(cleared.ok, JSON.stringify(cleared)).toBe(true);

    await cutNetwork(serverProxy, server);
    await reloadTab(page);
    await startOffline(page, serverProxy.url, token);
    await subscribeOffline(page, [['news', 'news']]);
    await quietPeriod(page, CACHE_DELIVERY_WINDOW_MS);
    expect((await received(page, 'news')).changes).toEqual([]);

    const sentBefore = server.stats().changesSent;
    serverProxy.restore();
    await waitForChanges(page, 'news', 3);
    expect(server.stats().changesSent - sentBefore, 'the whole topic came from the server again').toBe(3);
  });

  test('endSession keeps the cache: a new session of the same user gets the cached changes while offline', async ({
    server,
    serverProxy,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice' });
    await aliceWithCachedNews(page, server, serverProxy.url, token);
    const ended = await page.evaluate(() => window.harness.call('endSession'));
    expect(ended.ok, JSON.stringify(ended)).toBe(true);
    await waitForStatus(page, 'UNINITIALIZED');

    await cutNetwork(serverProxy, server);
    await reloadTab(page);
    await startOffline(page, serverProxy.url, token);
    const sentBefore = server.stats().changesSent;
    const subscribedAt = Date.now();
    await subscribeOffline(page, [['news', 'news']]);
    const cached = await waitForChanges(page, 'news', 3);
    console.log(
      `cache: 3 cached changes delivered offline ${cached.changes[2]!.receivedAt - subscribedAt} ms after subscribe`,
    );
    expect(cached.changes.map((c) => c.data)).toEqual([{ news: 1 }, { news: 2 }, { news: 3 }]);
    expect(server.stats().sockets).toBe(0);

    serverProxy.restore();
    await waitForStatus(page, 'OPEN');
    await server.publish('news', { news: 4 });
    const { changes } = await waitForChanges(page, 'news', 4);
    expect(changes.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    expect(server.stats().changesSent - sentBefore, 'only the new change crossed the wire').toBe(1);
  });
});
