import type { BrowserContext, Locator, Page } from '@playwright/test';
import path from 'node:path';
import {
  createClient,
  expect,
  openSession,
  startSession,
  test,
  waitForSessionError,
  waitForStatus,
} from './fixtures.ts';
import { DIST_DIR } from './paths.ts';
import { publishOutcome, startPublish, subscribe, waitForChanges } from './topic-helpers.ts';

/**
 * `<shared-session-devtools>` (spec §12) in real Chromium, mounted in the e2e harness's tabs on their
 * `window.client`: the panel must show the host's state, and its closes, as they happen. The panel is
 * the built one (`dist/devtools`, from the suite's snapshot), served to the page under {@link MOUNT}.
 */

/** Where the test serves the built package to its pages. */
const MOUNT = '__shared-session__/';

/** Serves the built package's modules under {@link MOUNT} of the test app's origin. */
async function serveBuiltPackage(context: BrowserContext, appUrl: string): Promise<void> {
  await context.route(`${appUrl}${MOUNT}**`, (route) => {
    const file = new URL(route.request().url()).pathname.slice(`/${MOUNT}`.length);
    return route.fulfill({ path: path.join(DIST_DIR, file), contentType: 'text/javascript; charset=utf-8' });
  });
}

/**
 * Mounts the panel in `page` on its `window.client`, open (polling) or collapsed (only the client's
 * events refresh it), and waits until it shows a first inspection.
 */
async function mountDevtools(page: Page, options: { open: boolean }): Promise<Locator> {
  await page.evaluate(
    async ({ entry, open }) => {
      const { defineDevtools } = (await import(entry)) as { defineDevtools: () => unknown };
      defineDevtools();
      const panel = document.createElement('shared-session-devtools') as HTMLElement & {
        client: unknown;
        open: boolean;
      };
      panel.client = window.client;
      panel.open = open;
      document.body.append(panel);
    },
    { entry: `/${MOUNT}devtools/index.js`, open: options.open },
  );
  const panel = page.locator('shared-session-devtools');
  await expect(section(panel, 'host')).toContainText(/Inspected:\s*\d\d:\d\d:\d\d\.\d{3}/);
  return panel;
}

/** Opens a tab of the harness, starts a session on `serverUrl` with `token` and mounts the panel in it. */
async function tabWithDevtools(
  openTab: () => Promise<Page>,
  serverUrl: string,
  token: string,
  options: { open: boolean } = { open: true },
): Promise<{ page: Page; panel: Locator }> {
  const page = await openTab();
  await openSession(page, serverUrl, token);
  return { page, panel: await mountDevtools(page, options) };
}

/** A section of the panel (`<details data-section>`). */
function section(panel: Locator, id: string): Locator {
  return panel.locator(`[data-section="${id}"]`);
}

/** The rows of a section's table, each as its cells' texts. */
function tableRows(panel: Locator, id: string): Promise<string[][]> {
  return section(panel, id)
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent ?? '')));
}

test.describe('the devtools panel (spec §12)', () => {
  test.beforeEach(async ({ context, appUrl }) => {
    await serveBuiltPackage(context, appUrl);
  });

  test('shows the host kind and build, and the tabs attached as they open and close', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const token = await mintToken({ sub: 'alice' });
    const tab1 = await openTab();
    await openSession(tab1, server.url, token);
    const panel = await mountDevtools(tab1, { open: true });
    await expect(section(panel, 'host')).toContainText(/Host:\s*shared-worker/);
    await expect(section(panel, 'host')).toContainText(/Build:\s*shared-session@\d+\.\d+\.\d+\+\w+ \/assets\/worker-/);
    await expect(section(panel, 'host')).toContainText(/User:\s*alice \[user\]/);
    await expect(section(panel, 'tabs').locator('summary')).toHaveText('Tabs (1)');

    const tab2 = await openTab();
    await openSession(tab2, server.url, token);
    await expect(section(panel, 'tabs').locator('summary')).toHaveText('Tabs (2)');
    await expect(section(panel, 'tabs').locator('tbody tr')).toHaveCount(2);
    await expect(panel.locator('[part="summary"]')).toContainText('shared-worker · 2 tabs');

    await tab2.close();
    await expect(section(panel, 'tabs').locator('summary')).toHaveText('Tabs (1)');
    await expect(section(panel, 'tabs').locator('tbody tr')).toHaveCount(1);
  });

  test('picks up a client set on the element before it was defined (upgrade)', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    await openSession(page, server.url, await mintToken({ sub: 'alice' }));
    await page.evaluate(async (entry) => {
      // Markup first (as in server-rendered HTML), the client set on the not yet upgraded element, then the definition.
      document.body.insertAdjacentHTML('beforeend', '<shared-session-devtools open></shared-session-devtools>');
      (document.querySelector('shared-session-devtools') as HTMLElement & { client: unknown }).client = window.client;
      const { defineDevtools } = (await import(entry)) as { defineDevtools: () => unknown };
      defineDevtools();
    }, `/${MOUNT}devtools/index.js`);
    const panel = page.locator('shared-session-devtools');
    await expect(section(panel, 'host')).toContainText(/User:\s*alice \[user\]/);
    await expect(section(panel, 'tabs').locator('summary')).toHaveText('Tabs (1)');
  });

  test('shows a cut connection as a close with its code and meaning as it happens, even collapsed', async ({
    serverProxy: proxy,
    mintToken,
    openTab,
  }) => {
    // Collapsed, the panel does not poll: only the client's status events can bring the close in.
    const { page, panel } = await tabWithDevtools(openTab, proxy.url, await mintToken({ sub: 'alice' }), {
      open: false,
    });
    expect(await tableRows(panel, 'socket')).toEqual([]);

    expect(proxy.drop()).toBe(1);
    await expect
      .poll(() => tableRows(panel, 'socket'))
      .toEqual([[expect.stringMatching(/^\d\d:\d\d:\d\d$/), '1006', 'connection lost (no close frame)', '—']]);
    await waitForStatus(page, 'OPEN');
    await expect(panel.locator('.badge')).toHaveText('OPEN');
    await expect(section(panel, 'socket')).toContainText(/Sockets opened:\s*2/);
    await expect(section(panel, 'log').locator('li').first()).toHaveText(/\d\d:\d\d:\d\d\.\d{3} /);
    await expect(section(panel, 'log')).toContainText('closed 1006');
  });

  test('shows a close the server initiated with its code and reason as it happens', async ({
    startServer,
    mintToken,
    openTab,
  }) => {
    const doomed = await startServer(); // closed by the test (close() is idempotent for the fixture's teardown)
    const { panel } = await tabWithDevtools(openTab, doomed.url, await mintToken({ sub: 'alice' }));

    await doomed.close();
    await expect
      .poll(async () => (await tableRows(panel, 'socket')).at(-1)?.slice(1), { timeout: 10_000 })
      .toEqual(['4503', 'SERVER_SHUTDOWN', 'server shutting down']);
    await expect(section(panel, 'log')).toContainText('closed 4503 "server shutting down"');
    await expect(panel.locator('.badge')).not.toHaveText('OPEN');
  });

  test('counts the token down and shows the session error when it expires', async ({ server, mintToken, openTab }) => {
    const { page, panel } = await tabWithDevtools(openTab, server.url, await mintToken({ sub: 'alice', expiresIn: 5 }));
    await expect(section(panel, 'token')).toContainText(/Token expires:\s*in \d+ (ms|s)/);
    await expect(section(panel, 'token')).toContainText(/Next refresh:\s*none scheduled/);

    await waitForSessionError(page, 'TOKEN_EXPIRED');
    await expect(section(panel, 'host')).toContainText(/Phase:\s*failed \(TOKEN_EXPIRED\)/);
    await expect(section(panel, 'host')).toContainText(/Last session error:\s*TOKEN_EXPIRED at \d\d:\d\d:\d\d/);
    await expect(panel.locator('.badge')).toHaveText('CLOSED');
  });

  test('shows a refresh in the refresh history with the tab that answered it', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const token = await mintToken({ sub: 'alice', expiresIn: 6 });
    const [watcher, refresher] = [await openTab(), await openTab()];
    await openSession(watcher, server.url, token);
    // Only the second tab has a refresh handler: the panel in the first shows it answering.
    await createClient(refresher, { serverUrl: server.url });
    const started = await startSession(refresher, token, {
      refresh: { sub: 'alice', expiresIn: 60 },
      waitForOpen: true,
    });
    expect(started.error).toBeUndefined();
    const panel = await mountDevtools(watcher, { open: true });

    const tabs = await tableRows(panel, 'tabs');
    const answering = tabs.find((row) => row[4] === '1')?.[0];
    expect(answering, 'the tab with the refresh handler').toMatch(/^[0-9a-f]{8}$/);
    await expect(section(panel, 'token')).toContainText(/Next refresh:\s*(in \d+ (ms|s)|now)/);

    await expect
      .poll(() => tableRows(panel, 'token'), { timeout: 10_000 })
      .toEqual([[expect.any(String), 'refreshed', answering, expect.stringMatching(/^\d+ (ms|s)$/), '0']]);
    await expect(section(panel, 'token')).toContainText(/Refreshes:\s*1/);
    await expect(section(panel, 'token')).toContainText(/Token expires:\s*in (5\d|60) s/);
  });

  test("shows a subscription's cursor advancing with the changes the host receives", async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    await openSession(page, server.url, await mintToken({ sub: 'alice' }));
    await subscribe(page, 'news', 'news:devtools');
    const panel = await mountDevtools(page, { open: true });
    const row = section(panel, 'topics').locator('tbody tr').filter({ hasText: 'news:devtools' });
    await expect(row.locator('td')).toHaveText(['news:devtools', '0', '0', '1', 'live']);

    for (const n of [1, 2, 3]) {
      await server.publish('news:devtools', { n });
      await waitForChanges(page, 'news', n);
      await expect(row.locator('td')).toHaveText(['news:devtools', String(n), String(n), '1', 'live']);
    }
    await expect(section(panel, 'topics').locator('summary')).toHaveText('Subscriptions (1)');
  });

  test('shows an offline publish in the outbox until the server stored it', async ({
    serverProxy: proxy,
    mintToken,
    openTab,
  }) => {
    const { page, panel } = await tabWithDevtools(openTab, proxy.url, await mintToken({ sub: 'alice' }));
    await expect(section(panel, 'outbox').locator('summary')).toHaveText('Outbox (0)');

    proxy.cut();
    await page.waitForFunction(() => window.client.connectionStatus !== 'OPEN');
    const id = await startPublish(page, 'feed:offline', { text: 'sent while offline' });
    await expect(section(panel, 'outbox').locator('summary')).toHaveText('Outbox (1)');
    await expect
      .poll(() => tableRows(panel, 'outbox'))
      .toEqual([['feed:offline', expect.stringMatching(/^[0-9a-f]{8}$/), expect.any(String), 'waiting']]);
    await expect(panel.locator('[part="summary"]')).toContainText('1 in outbox');

    proxy.restore();
    const outcome = await publishOutcome(page, id, 15_000);
    expect(outcome.ok).toBe(true);
    await expect(section(panel, 'outbox').locator('summary')).toHaveText('Outbox (0)');
    expect(await tableRows(panel, 'outbox')).toEqual([]);
  });
});
