import type { Page } from '@playwright/test';
import { assertSameOrderedChanges, expect, hostStats, openSession, test } from './fixtures.ts';
import {
  publishFromTab,
  publishOnServer,
  received,
  reloadTab,
  seqsOf,
  subscribe,
  summarize,
  waitForChanges,
  waitForHost,
} from './topic-helpers.ts';

/** 1, 2, …, n */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** What every tab's subscription `label` received, once each has `count` changes. */
async function allReceived(tabs: Page[], label: string, count: number) {
  return Promise.all(tabs.map((tab) => waitForChanges(tab, label, count)));
}

test.describe('topics: one shared subscription, ordered delivery, resumable cursors (spec §6)', () => {
  test('three tabs subscribed to one topic make one server subscription, and each sees every change once, in order', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const tabs = await openTabs(3);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, server.url, token);
    for (const tab of tabs) await subscribe(tab, 'news', 'news');
    await waitForHost(tabs[0]!, (s) => s.tabSubscriptions === 3 && s.topics === 1, '3 tab subscriptions, 1 topic');
    await expect.poll(() => server.stats().subscriptions).toBe(1);

    const sentAt = new Map<number, number>();
    const publishedBy = new Map<number, string>();
    for (let round = 0; round < 4; round++) {
      for (let n = 1; n <= 5; n++) {
        const at = Date.now();
        const { seq } = await server.publish('news', { from: 'server', round, n });
        sentAt.set(seq, at);
        publishedBy.set(seq, 'server');
      }
      // Between the server's bursts, one tab publishes through the host (round-robin over the tabs).
      const tab = tabs[round % tabs.length]!;
      const at = Date.now();
      const { seq } = await publishFromTab(tab, 'news', { from: `tab${round % tabs.length}`, round });
      sentAt.set(seq, at);
      publishedBy.set(seq, 'tab');
    }
    const total = 24;

    const logs = await allReceived(tabs, 'news', total);
    assertSameOrderedChanges(
      logs.map((log) => log.changes),
      total,
    );
    expect(logs[0]!.changes.map((c) => c.seq)).toEqual(upTo(total));
    // Tab publishes carry the host's clientId; server publishes carry none.
    for (const change of logs[0]!.changes) {
      expect(change.clientId !== undefined, `seq ${change.seq}`).toBe(publishedBy.get(change.seq) === 'tab');
    }

    const stats = server.stats();
    expect(stats.subscriptions, 'one server subscription for three tabs').toBe(1);
    expect(stats.topics).toBe(1);
    expect(stats.changesSent, 'each change crossed the wire once').toBe(total);
    expect(stats.sockets).toBe(1);
    expect(await hostStats(tabs[0]!)).toMatchObject({ topics: 1, tabSubscriptions: 3, changesReceived: total });

    const latencies = logs.flatMap((log) => log.changes.map((c) => c.receivedAt - sentAt.get(c.seq)!));
    console.log(
      `timing: publish → onChange in 3 tabs over one subscription: ${summarize(latencies)} (${total} changes)`,
    );
  });

  test('a host cut off from the server receives exactly the changes it missed, and every tab sees them once, in order', async ({
    server,
    serverProxy,
    mintToken,
    openTabs,
  }) => {
    const history = 50;
    await publishOnServer(server, 'feed', history);
    const tabs = await openTabs(3);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, serverProxy.url, token);
    for (const tab of tabs) await subscribe(tab, 'feed', 'feed');
    await allReceived(tabs, 'feed', history);
    const before = server.stats();
    const receivedBefore = (await hostStats(tabs[0]!)).changesReceived;

    expect(serverProxy.cut()).toBe(1);
    await expect.poll(() => server.stats().sockets, 'the server saw the socket go').toBe(0);
    for (const tab of tabs) await tab.waitForFunction(() => window.client.connectionStatus !== 'OPEN');

    await publishOnServer(server, 'feed', 10, (n) => ({ missed: n }));
    expect(server.stats().changesSent, 'nothing is sent while the host is away').toBe(before.changesSent);

    const restoredAt = Date.now();
    serverProxy.restore();
    const logs = await allReceived(tabs, 'feed', history + 10);
    const caughtUpMs = Math.max(...logs.map((log) => log.changes.at(-1)!.receivedAt)) - restoredAt;

    const after = server.stats();
    const resumeFrames = after.changesSent - before.changesSent;
    console.log(
      `resume: ${resumeFrames} change frames after the outage (history ${history}, missed 10); ` +
        `all 3 tabs caught up ${caughtUpMs} ms after restore`,
    );
    expect(resumeFrames, 'exactly the 10 missed changes crossed the wire').toBe(10);
    expect((await hostStats(tabs[0]!)).changesReceived - receivedBefore).toBe(10);
    assertSameOrderedChanges(
      logs.map((log) => log.changes),
      history + 10,
    );
    expect(logs[0]!.changes.slice(history).map((c) => c.data)).toEqual(upTo(10).map((n) => ({ missed: n })));
    expect(after.subscriptions).toBe(1);
    expect(after.socketsOpened - before.socketsOpened, 'one new socket after the outage').toBe(1);
  });

  test('after every tab reloads, cursors come back from IndexedDB and the server sends only newer changes', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const tabs = await openTabs(3);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, server.url, token);
    for (const tab of tabs) await subscribe(tab, 'feed', 'feed');
    await publishOnServer(server, 'feed', 10);
    await allReceived(tabs, 'feed', 10);

    for (const tab of tabs) await reloadTab(tab);
    for (const tab of tabs) await openSession(tab, server.url, token);
    // The host dropped the topic (memory window included) when the last tab subscription left;
    // what it knows of "feed" now can only come from IndexedDB.
    await waitForHost(tabs[0]!, (s) => s.tabSubscriptions === 0 && s.topics === 0, 'the old subscriptions gone');
    await expect.poll(() => server.stats().subscriptions).toBe(0);

    await publishOnServer(server, 'feed', 5, (n) => ({ n: 10 + n }));
    const sentBefore = server.stats().changesSent;
    const subscribedAt = Date.now();
    for (const tab of tabs) await subscribe(tab, 'feed', 'feed');
    const logs = await allReceived(tabs, 'feed', 15);

    const sent = server.stats().changesSent - sentBefore;
    const firstFive = logs.map((log) => log.changes[9]!.receivedAt - subscribedAt);
    console.log(
      `reload: ${sent} change frames sent after all 3 tabs reloaded and resubscribed (10 cached, 5 new); ` +
        `10 cached changes in the tabs within ${Math.max(...firstFive)} ms of subscribing`,
    );
    expect(sent, 'only the 5 changes after the stored cursor').toBe(5);
    assertSameOrderedChanges(
      logs.map((log) => log.changes),
      15,
    );
    expect(logs[0]!.changes.map((c) => c.data)).toEqual(upTo(15).map((n) => ({ n })));
  });

  test('since: n delivers exactly the changes after n, from the server and from the host cache', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    await publishOnServer(server, 'log', 10);
    const [first, second] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    await openSession(first!, server.url, token);
    await openSession(second!, server.url, token);

    // The host has nothing cached yet: the server serves since 4.
    await subscribe(first!, 'after4', 'log', { since: 4 });
    await waitForChanges(first!, 'after4', 6);
    // Now served from what the host holds.
    await subscribe(second!, 'all', 'log');
    await subscribe(second!, 'after0', 'log', { since: 0 });
    await subscribe(second!, 'after7', 'log', { since: 7 });
    await subscribe(first!, 'after10', 'log', { since: 10 });
    await waitForChanges(second!, 'all', 10);
    await waitForChanges(second!, 'after7', 3);

    await publishOnServer(server, 'log', 2, (n) => ({ n: 10 + n }));
    const expected: [Page, string, number[]][] = [
      [first!, 'after4', [5, 6, 7, 8, 9, 10, 11, 12]],
      [first!, 'after10', [11, 12]],
      [second!, 'all', upTo(12)],
      [second!, 'after0', upTo(12)],
      [second!, 'after7', [8, 9, 10, 11, 12]],
    ];
    for (const [tab, label, seqs] of expected) {
      await waitForChanges(tab, label, seqs.length);
      expect(await seqsOf(tab, label), label).toEqual(seqs);
      expect((await received(tab, label)).changes.map((c) => c.data)).toEqual(seqs.map((n) => ({ n })));
    }
    expect(server.stats().subscriptions).toBe(1);
  });
});
