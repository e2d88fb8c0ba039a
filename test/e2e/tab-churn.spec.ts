import type { Page } from '@playwright/test';
import { expect, getSession, hostStats, openSession, test } from './fixtures.ts';
import { publishOnServer, seqsOf, subscribe, waitForChanges } from './topic-helpers.ts';

test.describe('tab churn (spec §4)', () => {
  test('tabs opening and closing while changes stream keep one socket, one session and gap-free delivery', async ({
    server,
    mintToken,
    openTab,
  }) => {
    test.setTimeout(60_000);
    const token = await mintToken({ sub: 'alice', expiresIn: 600 });
    const open: Page[] = [];
    const join = async () => {
      const tab = await openTab();
      await openSession(tab, server.url, token);
      await subscribe(tab, 'feed', 'feed');
      open.push(tab);
      return tab;
    };
    await join();
    await join();
    const sessionId = (await getSession(open[0]!))?.id;
    expect(sessionId).toBeTruthy();

    // Stream changes while tabs come and go: each round one tab joins and the oldest one leaves.
    let published = 0;
    let maxSockets = 0;
    for (let round = 0; round < 8; round++) {
      published += (await publishOnServer(server, 'feed', 3)).length;
      maxSockets = Math.max(maxSockets, server.stats().sockets);
      await join();
      await open.shift()!.close();
      maxSockets = Math.max(maxSockets, server.stats().sockets);
    }
    published += (await publishOnServer(server, 'feed', 5)).length;

    // Every tab still open saw a gap-free, duplicate-free run ending at the last change.
    for (const tab of open) {
      await waitForChanges(tab, 'feed', 1);
      await expect.poll(async () => (await seqsOf(tab, 'feed')).at(-1)).toBe(published);
      const seqs = await seqsOf(tab, 'feed');
      expect(seqs, 'from the start of the topic, in order, once each').toEqual(
        Array.from({ length: published }, (_, i) => i + 1),
      );
    }
    expect(maxSockets, 'never more than one socket').toBe(1);
    expect(server.stats().socketsOpened, 'no reconnect').toBe(1);
    expect((await getSession(open[0]!))?.id).toBe(sessionId);
    await expect.poll(async () => (await hostStats(open[0]!)).tabs, { timeout: 2_000 }).toBe(open.length);
    await expect.poll(async () => (await hostStats(open[0]!)).tabSubscriptions).toBe(open.length);
  });
});
