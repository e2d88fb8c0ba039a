import { expect, getSession, openSession, pageEvents, quietPeriod, test, waitForStatus } from './fixtures.ts';

test.describe('network faults (spec §1, §4)', () => {
  test('a cut connection leaves OPEN and returns to OPEN by itself, on one socket, in the same session', async ({
    server,
    serverProxy: proxy,
    mintToken,
    openTabs,
  }) => {
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, proxy.url, token);
    const before = await getSession(tabs[0]!);
    const seen = (await pageEvents(tabs[0]!)).statuses.length;

    const cutAt = Date.now();
    // A blip: the live connection is destroyed, new ones are accepted.
    expect(proxy.drop()).toBe(1);

    for (const tab of tabs) {
      await tab.waitForFunction(
        (from) => {
          const after = window.events.statuses.slice(from).map((s) => s.status);
          return after.some((s) => s !== 'OPEN') && after.at(-1) === 'OPEN';
        },
        seen,
        { timeout: 10_000 },
      );
    }
    const after = (await pageEvents(tabs[0]!)).statuses.slice(seen);
    console.log(
      `timing: back to OPEN ${after.at(-1)!.t - cutAt} ms after the cut (${after.map((s) => s.status).join(' → ')})`,
    );

    await expect.poll(() => server.stats().sockets).toBe(1);
    expect(server.stats().socketsOpened).toBe(2);
    expect(proxy.openConnections).toBe(1);
    for (const tab of tabs) expect((await getSession(tab))?.id).toBe(before?.id);
  });

  test('reconnects once the server is reachable again', async ({ server, serverProxy: proxy, mintToken, openTab }) => {
    const page = await openTab();
    await openSession(page, proxy.url, await mintToken({ sub: 'alice' }));
    const before = await getSession(page);

    proxy.cut(); // destroys the live connection and refuses new ones until restore()
    await page.waitForFunction(() => window.client.connectionStatus !== 'OPEN');
    // Nothing to await while refused: the assertion is that the session does not claim to be OPEN.
    await quietPeriod(page, 1_500);
    expect(await page.evaluate(() => window.client.connectionStatus)).not.toBe('OPEN');
    expect(server.stats().sockets).toBe(0);

    proxy.restore();
    await waitForStatus(page, 'OPEN', 15_000);
    expect((await getSession(page))?.id).toBe(before?.id);
    expect(server.stats().sockets).toBe(1);
    expect((await pageEvents(page)).sessionErrors).toEqual([]);
  });
});
