import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  assertSameOrderedChanges,
  createTcpProxy,
  expect,
  hostStats,
  loadServerModule,
  openSession,
  test,
} from './fixtures.ts';
import { publishOnServer, received, subscribe, waitForChanges } from './topic-helpers.ts';

declare global {
  interface Window {
    /** Harness ids of the publishes this spec streams from a tab, in order. */
    publishStream?: string[];
  }
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test.describe('a server restart on the durable store (spec §5, §7)', () => {
  test('subscribers resume with only newer changes, and every acknowledged publish is in the log once', async ({
    startServer,
    mintToken,
    openTabs,
  }) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shared-session-e2e-lmdb-'));
    const first = await startServer({ store: { path: dir } });
    // The browser keeps one URL across the restart: the proxy's; the new server takes the old port.
    const proxy = await createTcpProxy({ port: first.port });
    try {
      const tabs = await openTabs(2);
      const [publisher, watcher] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
      const token = await mintToken({ sub: 'alice' });
      for (const tab of tabs) {
        await openSession(tab, proxy.url, token);
        await subscribe(tab, 'log', 'log');
      }
      await publishOnServer(first, 'log', 10);
      for (const tab of tabs) await waitForChanges(tab, 'log', 10);

      // A stream of 20 publishes, one every 5 ms; the server stops once 5 of them were acknowledged,
      // so that some are in flight (sent, not acknowledged) and some not yet sent when it goes.
      await publisher.evaluate(() => {
        const ids: string[] = (window.publishStream = []);
        const timer = setInterval(() => {
          ids.push(window.harness.publish('log', { tab: ids.length + 1 }));
          if (ids.length === 20) clearInterval(timer);
        }, 5);
      });
      await publisher.waitForFunction(
        () => window.publishStream!.filter((id) => window.publishes[id]!.outcome).length >= 5,
        undefined,
        { polling: 1 },
      );
      await first.close();
      const atStop = await publisher.evaluate(() => {
        const acked: { n: number; seq: number }[] = [];
        window.publishStream!.forEach((id, i) => {
          const outcome = window.publishes[id]!.outcome;
          if (outcome?.ok) acked.push({ n: i + 1, seq: outcome.value.seq });
        });
        return { acked, started: window.publishStream!.length };
      });
      const acknowledged = atStop.acked;
      const storedUnacknowledged = first.stats().changesStored - 10 - acknowledged.length;
      for (const tab of tabs) await tab.waitForFunction(() => window.client.connectionStatus !== 'OPEN');
      const seenBeforeRestart = (await received(watcher, 'log')).changes.length;
      const receivedBeforeRestart = (await hostStats(watcher)).changesReceived;

      const restartedAt = Date.now();
      const second = await startServer({ port: first.port, store: { path: dir } });
      await publishOnServer(second, 'log', 5, (n) => ({ after: n }));
      const total = 10 + 20 + 5;
      const logs = await Promise.all(tabs.map((tab) => waitForChanges(tab, 'log', total)));
      const caughtUpMs = Math.max(...logs.map((log) => log.changes.at(-1)!.receivedAt)) - restartedAt;
      await publisher.waitForFunction(
        () => window.publishStream!.length === 20 && window.publishStream!.every((id) => window.publishes[id]!.outcome),
      );
      const outcomes = await publisher.evaluate(() =>
        window.publishStream!.map((id) => window.publishes[id]!.outcome!),
      );

      const sentAfterRestart = second.stats().changesSent;
      console.log(
        `restart: ${atStop.started} of 20 publishes started, ${acknowledged.length} acknowledged and ` +
          `${storedUnacknowledged} stored but not acknowledged when the server stopped; ` +
          `${seenBeforeRestart} of ${total} changes seen before it; the new server sent ${sentAfterRestart} change frames ` +
          `(stored ${second.stats().changesStored} new); tabs caught up ${caughtUpMs} ms after the new server started`,
      );
      expect(
        outcomes.every((o) => o.ok),
        JSON.stringify(outcomes.filter((o) => !o.ok)),
      ).toBe(true);
      assertSameOrderedChanges(
        logs.map((log) => log.changes),
        total,
      );
      expect(sentAfterRestart, 'only what the host had not seen').toBe(total - seenBeforeRestart);
      expect((await hostStats(watcher)).changesReceived - receivedBeforeRestart).toBe(total - seenBeforeRestart);

      await second.close();
      const { openLmdbTopicStore } = await loadServerModule();
      const store = await openLmdbTopicStore({ path: dir });
      const log = await store.read('log', 0, 1_000);
      await store.close();
      expect(log.map((c) => c.seq)).toEqual(upTo(total));
      const tabData = log.map((c) => c.data as { tab?: number }).filter((d) => d.tab !== undefined);
      expect(
        tabData.map((d) => d.tab).sort((a, b) => a! - b!),
        'each tab publish stored once',
      ).toEqual(upTo(20));
      for (const { n, seq } of acknowledged)
        expect(log[seq - 1]?.data, `acknowledged publish ${n}`).toEqual({ tab: n });
      outcomes.forEach((outcome, i) => {
        if (outcome.ok) expect(log[outcome.value.seq - 1]?.data, `publish ${i + 1}`).toEqual({ tab: i + 1 });
      });
    } finally {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
