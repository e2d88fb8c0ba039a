import { expect, test } from './fixtures.ts';
import {
  demoDataDir,
  feedTexts,
  openDemo,
  panelField,
  publishInDemo,
  signIn,
  startDemo,
  type Demo,
} from './demo-helpers.ts';
import { storedCursor } from './topic-helpers.ts';

const FEED = 'feed:public';

test.describe('offline reload of the demo (service worker + host cache + outbox, README "Hosts, updates and offline")', () => {
  let demo: Demo | undefined;
  let removeData: (() => Promise<void>) | undefined;

  test.afterAll(async () => {
    await demo?.close();
    await removeData?.();
  });

  test('a reload while offline starts the app from the service worker cache with the cached session and feed, and an offline publish is stored once when the network returns', async ({
    browser,
    context,
  }) => {
    test.setTimeout(60_000);
    const data = await demoDataDir();
    removeData = data.remove;
    // The demo's default 30 s tokens: the offline part below stays well inside one token's life.
    const options = { dataDir: data.dir, tokenTtlSeconds: 30 };
    demo = await startDemo({ port: 0, serverPort: 0, ...options });
    const webPort = Number(new URL(demo.url).port);
    const serverPort = demo.server.port;

    const page = await context.newPage();
    await openDemo(page, demo.url);
    await signIn(page);
    const signedInAt = Date.now();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 10_000 });
    const cached = await page.evaluate(async () => {
      const keys = await caches.keys();
      const cache = await caches.open(keys[0]!);
      return { keys, urls: (await cache.keys()).map((request) => new URL(request.url).pathname) };
    });
    expect(cached.keys, 'one precache').toHaveLength(1);
    // The app shell, its config and the session worker script.
    expect(cached.urls).toEqual(expect.arrayContaining(['/', '/api/config']));
    expect(
      cached.urls.some((url) => /^\/assets\/worker-[\w-]+\.js$/.test(url)),
      'the worker script is precached',
    ).toBe(true);

    for (const text of ['one', 'two', 'three']) await publishInDemo(page, text);
    await expect.poll(() => feedTexts(page)).toEqual(['alice: three', 'alice: two', 'alice: one']);
    await expect(panelField(page, 'messages')).toHaveText('3');
    await expect(panelField(page, 'outbox')).toHaveText('0');
    // The host writes the cache and its cursor to IndexedDB a little after receipt: wait for it.
    await expect.poll(() => storedCursor(page, 'alice', FEED)).toBe(3);
    const sessionId = await panelField(page, 'session').textContent();
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(demo.server.stats()).toMatchObject({ sockets: 1, changesStored: 3 });

    // Offline: the browser has no network and neither the web server nor the reference server runs.
    await context.setOffline(true);
    await demo.close();
    demo = undefined;
    await expect(page.locator('#status-badge')).not.toHaveText('OPEN');

    const reloadStarted = Date.now();
    await page.reload();
    await expect.poll(() => feedTexts(page), { timeout: 10_000 }).toEqual(['alice: three', 'alice: two', 'alice: one']);
    await expect(panelField(page, 'session')).toHaveText(sessionId!);
    const reloadMs = Date.now() - reloadStarted;
    console.log(
      `timing (offline reload): app shell, cached session and 3 cached feed items shown ${reloadMs} ms after ` +
        `page.reload() (offline, both servers stopped)`,
    );
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'served by the SW').toBe(true);
    await expect(panelField(page, 'user')).toHaveText('alice [member]');
    await expect(page.locator('#status-badge')).not.toHaveText('OPEN');
    await expect(panelField(page, 'error')).toHaveText('none');

    await publishInDemo(page, 'written offline');
    await expect(panelField(page, 'outbox')).toHaveText('1');
    await expect(page.locator('#feed > li')).toHaveCount(3);

    // The network and a new demo (same ports, same data dir and secret) come back.
    const offlineMs = Date.now() - signedInAt;
    expect(offlineMs, 'still inside the first token’s life (no refresh needed offline)').toBeLessThan(25_000);
    demo = await startDemo({ port: webPort, serverPort, ...options });
    expect(demo.url).toBe(`http://127.0.0.1:${webPort}/`);
    const restoredAt = Date.now();
    await context.setOffline(false);
    await expect(page.locator('#status-badge')).toHaveText('OPEN', { timeout: 15_000 });
    await expect(panelField(page, 'outbox')).toHaveText('0', { timeout: 10_000 });
    await expect
      .poll(() => feedTexts(page))
      .toEqual(['alice: written offline', 'alice: three', 'alice: two', 'alice: one']);
    console.log(
      `timing (offline publish): stored and delivered ${Date.now() - restoredAt} ms after the network returned`,
    );
    await expect(panelField(page, 'session')).toHaveText(sessionId!);
    await expect(panelField(page, 'error')).toHaveText('none');
    expect(demo.server.stats(), 'the offline publish stored once').toMatchObject({ changesStored: 1, sockets: 1 });

    // Another browser profile (no cache of its own) reads the feed from the server's log: four
    // messages, the offline one once.
    const otherProfile = await browser.newContext();
    try {
      const reader = await otherProfile.newPage();
      await openDemo(reader, demo.url);
      await signIn(reader);
      await expect
        .poll(() => feedTexts(reader))
        .toEqual(['alice: written offline', 'alice: three', 'alice: two', 'alice: one']);
    } finally {
      await otherProfile.close();
    }
    expect(demo.server.stats().changesStored).toBe(1);
  });

  test('offline for longer than the token lives, a reload (another tab open) still shows the cached session and feed, queues a publish, and the session resumes once the token endpoint answers again', async ({
    context,
  }) => {
    test.setTimeout(60_000);
    await demo?.close();
    await removeData?.();
    const data = await demoDataDir();
    removeData = data.remove;
    // 4 s tokens: the offline period below outlives the token, so its refresh fails (offline) until exp.
    const options = { dataDir: data.dir, tokenTtlSeconds: 4 };
    demo = await startDemo({ port: 0, serverPort: 0, ...options });
    const webPort = Number(new URL(demo.url).port);
    const serverPort = demo.server.port;

    const page = await context.newPage();
    await openDemo(page, demo.url);
    await signIn(page);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 10_000 });
    for (const text of ['one', 'two']) await publishInDemo(page, text);
    await expect.poll(() => feedTexts(page)).toEqual(['alice: two', 'alice: one']);
    await expect.poll(() => storedCursor(page, 'alice', FEED)).toBe(2);
    const sessionId = await panelField(page, 'session').textContent();
    // A second tab keeps the SharedWorker (and the session it holds) alive across the reload below;
    // with a lone tab the worker may or may not survive the reload, and only a new worker resumes.
    const otherTab = await context.newPage();
    await openDemo(otherTab, demo.url);
    await expect(otherTab.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });

    await context.setOffline(true);
    await demo.close();
    demo = undefined;
    // The last token the page holds (the one the demo would use offline) must have expired.
    const exp = await page.evaluate(() => {
      const token = localStorage.getItem('shared-session-demo:token')!;
      return (JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number }).exp;
    });
    await page.waitForTimeout(Math.max(0, exp * 1000 + 500 - Date.now())); // time must pass: nothing to await
    const beforeReload = await panelField(page, 'error').textContent();

    await page.reload();
    // Settled: the cached feed is shown, or the demo logged that its startSession failed.
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#feed > li').length >= 2 ||
        [...document.querySelectorAll('#log > li')].some((li) => li.textContent?.includes('startSession failed')),
      undefined,
      { timeout: 10_000 },
    );
    const afterReload = {
      error: await panelField(page, 'error').textContent(),
      log: await page.locator('#log > li').allTextContents(),
    };
    console.log(
      `offline past exp: panel "Last session error" before the reload: "${beforeReload}"; after it: ` +
        `"${afterReload.error}"; demo events (newest first): ${afterReload.log.join(' | ')}`,
    );
    expect(
      afterReload.log.join('\n'),
      'offline with an expired token, startSession resumes the stored session (README "Session semantics")',
    ).not.toContain('startSession failed');
    await expect.poll(() => feedTexts(page)).toEqual(['alice: two', 'alice: one']);
    await expect(panelField(page, 'session')).toHaveText(sessionId!);
    await publishInDemo(page, 'written offline');
    await expect(panelField(page, 'outbox')).toHaveText('1');

    demo = await startDemo({ port: webPort, serverPort, ...options });
    await context.setOffline(false);
    await expect(page.locator('#status-badge'), 'the session resumes once a token can be had').toHaveText('OPEN', {
      timeout: 20_000,
    });
    await expect(panelField(page, 'outbox')).toHaveText('0', { timeout: 10_000 });
    await expect.poll(() => feedTexts(page)).toEqual(['alice: written offline', 'alice: two', 'alice: one']);
    await expect(panelField(page, 'session')).toHaveText(sessionId!);
    await expect(otherTab.locator('#status-badge')).toHaveText('OPEN');
    await expect.poll(() => feedTexts(otherTab)).toEqual(['alice: written offline', 'alice: two', 'alice: one']);
    expect(demo.server.stats()).toMatchObject({ changesStored: 1, sockets: 1 });
  });
});
