import type { Page } from '@playwright/test';
import {
  assertSameOrderedChanges,
  expOf,
  getSession,
  hostStats,
  loadServerModule,
  openSession,
  pageEvents,
} from '../fixtures.ts';
import { received, subscribe, waitForChanges } from '../topic-helpers.ts';
import { expect, MISSING_SERVICES, test, type Cluster, type ServerProcess } from './cluster.ts';

declare global {
  interface Window {
    /** Harness ids of the publishes this spec streams from a tab, in order. */
    scaleOutStream?: string[];
    /** The host's `changesReceived` when the socket first left OPEN. */
    receivedAtDrop?: number | undefined;
  }
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Starts `count` publishes `{ from, n }` from the tab, one every `everyMs`, without awaiting them. */
function streamPublishes(page: Page, topic: string, from: string, count: number, everyMs: number): Promise<void> {
  return page.evaluate(
    ([topic, from, count, everyMs]) => {
      const ids: string[] = (window.scaleOutStream = []);
      const timer = setInterval(() => {
        ids.push(window.harness.publish(topic, { from, n: ids.length + 1 }));
        if (ids.length === count) clearInterval(timer);
      }, everyMs);
    },
    [topic, from, count, everyMs] as const,
  );
}

/** The outcomes of the tab's streamed publishes, once all of them settled. */
async function streamOutcomes(page: Page, count: number) {
  await page.waitForFunction(
    (n) => window.scaleOutStream?.length === n && window.scaleOutStream.every((id) => window.publishes[id]!.outcome),
    count,
    { timeout: 20_000 },
  );
  return page.evaluate(() => window.scaleOutStream!.map((id) => window.publishes[id]!.outcome!));
}

/** Records the host's `changesReceived` the moment the page's status first leaves OPEN. */
function recordReceivedAtDrop(page: Page): Promise<void> {
  return page.evaluate(() => {
    window.receivedAtDrop = undefined;
    let pending = false;
    window.client.onConnectionStatusChange((status) => {
      if (status === 'OPEN' || pending) return;
      pending = true;
      // The host reconnects after at least 125 ms (jittered backoff): this answer comes first.
      void window.client.debugHostStats!().then((stats) => (window.receivedAtDrop = stats.changesReceived));
    });
  });
}

/** Sum of `changesSent` over the processes still running. */
async function sentBySurvivors(cluster: Cluster): Promise<number> {
  return (await cluster.health()).reduce((sum, stats) => sum + (stats?.changesSent ?? 0), 0);
}

test.describe('several server processes behind nginx, sharing Redis (spec §7)', () => {
  test.skip(MISSING_SERVICES !== undefined, `scale-out needs redis-server and nginx: ${MISSING_SERVICES}`);

  test('browsers on two processes see each other’s changes in order, once', async ({
    cluster,
    mintToken,
    openTab,
    openTabIn,
    browser,
  }) => {
    const [first, second] = cluster.processes as [ServerProcess, ServerProcess];
    const a = await openTab();
    const otherProfile = await browser.newContext();
    try {
      const b = await openTabIn(otherProfile);
      await openSession(a, first.url, await mintToken({ sub: 'alice' }));
      await openSession(b, second.url, await mintToken({ sub: 'bob' }));
      expect(await first.socketsByUser()).toEqual({ alice: 1 });
      expect(await second.socketsByUser()).toEqual({ bob: 1 });
      await subscribe(a, 'room', 'room');
      await subscribe(b, 'room', 'room');

      await Promise.all([streamPublishes(a, 'room', 'a', 15, 7), streamPublishes(b, 'room', 'b', 15, 11)]);
      const logs = await Promise.all([a, b].map((tab) => waitForChanges(tab, 'room', 30)));
      for (const tab of [a, b]) expect((await streamOutcomes(tab, 15)).every((o) => o.ok)).toBe(true);
      assertSameOrderedChanges(
        logs.map((log) => log.changes),
        30,
      );
      expect(logs[1]!.changes.map((c) => c.data)).toEqual(logs[0]!.changes.map((c) => c.data));
      const fromEach = (from: string) =>
        logs[0]!.changes.map((c) => c.data as { from: string; n: number }).filter((d) => d.from === from);
      expect(fromEach('a').map((d) => d.n)).toEqual(upTo(15));
      expect(fromEach('b').map((d) => d.n)).toEqual(upTo(15));
      // Each process sent each change once to its one subscriber.
      expect((await first.health()).changesSent).toBe(30);
      expect((await second.health()).changesSent).toBe(30);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await received(a, 'room')).changes).toHaveLength(30);
    } finally {
      await otherProfile.close();
    }
  });

  test('after its process is killed mid-stream, a browser resumes through the balancer with only what it missed, and nothing acknowledged is lost', async ({
    cluster,
    mintToken,
    openTab,
    openTabIn,
    browser,
  }) => {
    const a = await openTab();
    await openSession(a, cluster.nginx.url, await mintToken({ sub: 'alice' }));
    const aProcess = await cluster.processOf('alice');
    const bProcess = cluster.processes.find((p) => p !== aProcess)!;
    const otherProfile = await browser.newContext();
    try {
      const b = await openTabIn(otherProfile);
      await openSession(b, bProcess.url, await mintToken({ sub: 'bob' }));
      await subscribe(a, 'log', 'log');
      await subscribe(b, 'log', 'log');
      await recordReceivedAtDrop(a);

      // 20 publishes from A (every 10 ms) and 30 from B (every 15 ms); A's process dies once A saw 10
      // changes and 5 of its publishes were acknowledged, so some of A's are in flight or not yet sent.
      await Promise.all([streamPublishes(a, 'log', 'a', 20, 10), streamPublishes(b, 'log', 'b', 30, 15)]);
      await a.waitForFunction(
        () =>
          window.subscriptions['log']!.changes.length >= 10 &&
          window.scaleOutStream!.filter((id) => window.publishes[id]!.outcome).length >= 5,
        undefined,
        { polling: 1 },
      );
      await aProcess.kill();
      const acknowledgedAtKill = await a.evaluate(() =>
        window.scaleOutStream!.flatMap((id, i) => {
          const outcome = window.publishes[id]!.outcome;
          return outcome?.ok ? [{ n: i + 1, seq: outcome.value.seq }] : [];
        }),
      );
      await a.waitForFunction(() => window.receivedAtDrop !== undefined);
      const receivedAtDrop = await a.evaluate(() => window.receivedAtDrop!);

      const total = 50;
      const logs = await Promise.all([a, b].map((tab) => waitForChanges(tab, 'log', total, 20_000)));
      const outcomes = [await streamOutcomes(a, 20), await streamOutcomes(b, 30)];
      expect(
        outcomes.flat().every((o) => o.ok),
        JSON.stringify(outcomes.flat().filter((o) => !o.ok)),
      ).toBe(true);
      assertSameOrderedChanges(
        logs.map((log) => log.changes),
        total,
      );

      // A reconnected through the balancer to a surviving process, resumed the same session.
      const now = await cluster.processOf('alice');
      expect(now).not.toBe(aProcess);
      expect(aProcess.running).toBe(false);
      const [statsA, statsB] = [await hostStats(a), await hostStats(b)];
      // Each change reached each host once; the survivors sent A only what it had not received.
      expect(statsA.changesReceived).toBe(total);
      expect(statsB.changesReceived).toBe(total);
      const survivorsSent = await sentBySurvivors(cluster);
      console.log(
        `failover: A had ${receivedAtDrop} of ${total} changes when its process died, ` +
          `${acknowledgedAtKill.length} of its publishes acknowledged; the surviving processes sent ${survivorsSent} ` +
          `change frames (${total} to B, ${survivorsSent - total} to A)`,
      );
      expect(survivorsSent - statsB.changesReceived, 'sent to A after the failover').toBe(total - receivedAtDrop);

      // The log in Redis: every publish once, the acknowledged ones where they were acknowledged.
      const { openRedisTopicStore } = await loadServerModule();
      const store = await openRedisTopicStore({ url: cluster.redis.url, keyPrefix: cluster.keyPrefix });
      const log = await store.read('log', 0, 1_000);
      await store.close();
      expect(log.map((c) => c.seq)).toEqual(upTo(total));
      const data = log.map((c) => c.data as { from: string; n: number });
      for (const from of ['a', 'b']) {
        const ns = data.filter((d) => d.from === from).map((d) => d.n);
        expect(
          ns.sort((x, y) => x - y),
          `each publish of ${from} stored once`,
        ).toEqual(upTo(from === 'a' ? 20 : 30));
      }
      for (const { n, seq } of acknowledgedAtKill) expect(log[seq - 1]?.data).toEqual({ from: 'a', n });
      outcomes[0]!.forEach((outcome, i) => {
        if (outcome.ok) expect(log[outcome.value.seq - 1]?.data).toEqual({ from: 'a', n: i + 1 });
      });
    } finally {
      await otherProfile.close();
    }
  });

  test('token refreshes and the expiry behave the same whichever process holds the socket', async ({
    cluster,
    mintToken,
    openTab,
    openTabIn,
    browser,
  }) => {
    // A: refreshed every ~2 s (3 s tokens). Its process is killed after the first refresh; the
    // refreshes go on, on the same session, over the socket to another process.
    const a = await openTab();
    await openSession(a, cluster.nginx.url, await mintToken({ sub: 'alice', expiresIn: 3 }), {
      refresh: { sub: 'alice', expiresIn: 3 },
    });
    const firstProcess = await cluster.processOf('alice');
    await a.waitForFunction(() => window.events.refreshCalls.filter((c) => c.token).length >= 1, undefined, {
      timeout: 10_000,
    });
    await expect.poll(async () => (await hostStats(a)).refreshes, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);

    // B: another browser profile, a 4 s token and no refresh handler; its process is killed too.
    const otherProfile = await browser.newContext();
    try {
      const b = await openTabIn(otherProfile);
      const bToken = await mintToken({ sub: 'bob', expiresIn: 4 });
      await openSession(b, cluster.nginx.url, bToken);
      const bFirstProcess = await cluster.processOf('bob');

      await firstProcess.kill();
      if (bFirstProcess !== firstProcess) await bFirstProcess.kill();
      const aSecondProcess = await cluster.processOf('alice');
      const bSecondProcess = await cluster.processOf('bob');
      expect(aSecondProcess.running && bSecondProcess.running).toBe(true);

      // B: closed at its token's exp by the process that holds it now.
      const exp = expOf(bToken)!;
      await b.waitForFunction(() => window.events.sessionErrors.length > 0, undefined, { timeout: 10_000 });
      const bEvents = await pageEvents(b);
      expect(bEvents.sessionErrors.map((e) => e.type)).toEqual(['TOKEN_EXPIRED']);
      const lateMs = bEvents.sessionErrors[0]!.t - exp;
      console.log(`expiry: TOKEN_EXPIRED reached the tab ${lateMs} ms after exp, from the process B reconnected to`);
      expect(lateMs).toBeGreaterThanOrEqual(-50);
      expect(lateMs).toBeLessThan(1_500);
      await expect.poll(async () => (await bSecondProcess.socketsByUser())['bob'] ?? 0).toBe(0);

      // A: two more refreshes after the failover, on the socket to the new process; no session error.
      const refreshesAtFailover = (await pageEvents(a)).refreshCalls.filter((c) => c.token).length;
      await a.waitForFunction(
        (n) => window.events.refreshCalls.filter((c) => c.token).length >= n + 2,
        refreshesAtFailover,
        { timeout: 10_000 },
      );
      const events = await pageEvents(a);
      expect(events.sessionErrors).toEqual([]);
      expect(await a.evaluate(() => window.client.connectionStatus)).toBe('OPEN');
      const lastToken = events.refreshCalls.filter((c) => c.token).at(-1)!.token!;
      await expect.poll(async () => (await getSession(a))?.expiresAt).toBe(expOf(lastToken));
      expect(await cluster.processOf('alice')).toBe(aSecondProcess);
      expect(await aSecondProcess.socketsByUser()).toMatchObject({ alice: 1 });
    } finally {
      await otherProfile.close();
    }
  });
});
