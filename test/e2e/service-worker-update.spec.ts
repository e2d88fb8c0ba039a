import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { demoDataDir, openDemo, signIn, startDemo, type Demo } from './demo-helpers.ts';

/** The demo's built service worker; a changed byte is a new deploy for the browser. */
const SERVICE_WORKER = fileURLToPath(new URL('../../.tmp/demo/sw.js', import.meta.url));

test.describe('service-worker updates (registerServiceWorker, README "Hosts, updates and offline")', () => {
  let demo: Demo;
  let removeData: () => Promise<void>;
  let originalServiceWorker: string;

  test.beforeAll(async () => {
    const data = await demoDataDir();
    removeData = data.remove;
    demo = await startDemo({ port: 0, serverPort: 0, dataDir: data.dir, tokenTtlSeconds: 30 });
    originalServiceWorker = await readFile(SERVICE_WORKER, 'utf8');
  });

  test.afterAll(async () => {
    await writeFile(SERVICE_WORKER, originalServiceWorker);
    await demo?.close();
    await removeData?.();
  });

  test('a waiting service worker is announced in every tab, and applyUpdate reloads every tab into it through the host', async ({
    context,
  }) => {
    const tabs = [await context.newPage(), await context.newPage()];
    for (const tab of tabs) await openDemo(tab, demo.url);
    await signIn(tabs[0]!);
    await expect(tabs[1]!.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });
    for (const tab of tabs) {
      await expect.poll(() => tab.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      await tab.evaluate(() => ((window as unknown as { beforeUpdate: boolean }).beforeUpdate = true));
    }

    // Deploy: the service worker script changes; one tab checks for the update.
    const version = /const VERSION = '([^']+)'/.exec(originalServiceWorker)?.[1];
    expect(version, 'the built service worker names its cache version').toBeTruthy();
    await writeFile(SERVICE_WORKER, originalServiceWorker.replace(`'${version}'`, `'${version}-next'`));
    await tabs[0]!.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    for (const tab of tabs) await expect(tab.locator('#update-banner')).toBeVisible({ timeout: 10_000 });

    // Apply it in one tab: the new worker activates and every tab is told (through the host) to reload.
    const reloaded = tabs.map((tab) => tab.waitForEvent('load', { timeout: 15_000 }));
    await tabs[0]!.locator('#apply-update').click();
    await Promise.all(reloaded);
    for (const tab of tabs) {
      await expect(tab.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });
      expect(await tab.evaluate(() => (window as unknown as { beforeUpdate?: boolean }).beforeUpdate)).toBeUndefined();
      await expect(tab.locator('#update-banner')).toBeHidden();
    }
    const cacheNames: string[] = await tabs[0]!.evaluate(() => caches.keys());
    expect(cacheNames, 'the new service worker took over (and dropped the old cache)').toEqual([`${version}-next`]);
    expect(demo.server.stats().socketsByUser['alice'], 'still one socket').toBe(1);
  });
});
