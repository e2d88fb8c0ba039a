import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from '@playwright/test';
import {
  createClient,
  expect,
  getSession,
  hostStats,
  pageEvents,
  quietPeriod,
  startSession,
  test,
  waitForStatus,
} from './fixtures.ts';
import { waitForHostOf, watchSockets } from './host-helpers.ts';
import { APP_OUT_DIR } from './paths.ts';

/** The test app's bundled worker asset (Vite hashes its name), as a path under the app's URL. */
async function workerAsset(): Promise<string> {
  const assets = await readdir(path.join(APP_OUT_DIR, 'assets'));
  const workers = assets.filter((name) => /^worker-.*\.js$/.test(name));
  expect(workers, 'one bundled worker asset in the test app').toHaveLength(1);
  return `assets/${workers[0]}`;
}

/** Creates a client on `workerUrl` and starts the session without waiting for OPEN. */
async function startOnBuild(page: Page, serverUrl: string, workerUrl: string, token: string): Promise<void> {
  await createClient(page, { serverUrl, workerUrl });
  const result = await startSession(page, token);
  expect(result.error, 'startSession rejected').toBeUndefined();
}

test.describe('version skew: two builds side by side keep one socket (spec §4)', () => {
  test('a newer build waits for the socket owner lock, the older build hears onUpdateAvailable, and the newer host connects once the older tabs are gone', async ({
    server,
    mintToken,
    openTabs,
    appUrl,
  }) => {
    test.setTimeout(40_000);
    const asset = await workerAsset();
    const build1 = new URL(`${asset}?build=1`, appUrl).href;
    const build2 = new URL(`${asset}?build=2`, appUrl).href;
    const token = await mintToken({ sub: 'alice', expiresIn: 600 });

    // Build 1: two tabs, OPEN over one socket.
    const older = await openTabs(2);
    for (const tab of older) await startOnBuild(tab, server.url, build1, token);
    for (const tab of older) await waitForStatus(tab, 'OPEN');
    const olderStats = await hostStats(older[0]!);
    expect(olderStats).toMatchObject({ kind: 'shared-worker', tabs: 2, socketsOpened: 1 });
    expect(olderStats.buildId).toMatch(/\?build=1$/);
    const sessionId = (await getSession(older[0]!))!.id;
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });

    // Build 2 (a deploy): two more tabs of the same user in the same profile get their own host.
    const newer = await openTabs(2);
    for (const tab of newer) await startOnBuild(tab, server.url, build2, token);
    const newerStats = await hostStats(newer[0]!);
    expect(newerStats.buildId).toMatch(/\?build=2$/);
    expect(newerStats, 'the newer host runs, but holds no socket yet').toMatchObject({
      kind: 'shared-worker',
      tabs: 2,
      socketsOpened: 0,
    });
    for (const tab of newer) await waitForStatus(tab, 'CONNECTING');

    // The older build's tabs are told about the newer build; the newer tabs are not.
    for (const tab of older) {
      await tab.waitForFunction(() => window.events.updatesAvailable.length > 0);
      expect((await pageEvents(tab)).updatesAvailable.map((u) => u.buildId)).toEqual([newerStats.buildId]);
    }
    // Still one socket while both builds run (nothing to await: the newer host must not dial).
    const watch = watchSockets(server, 5);
    await quietPeriod(newer[0]!, 1_000);
    const during = watch.stop();
    expect(during.max, 'one socket for the user while two builds run').toBe(1);
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    expect(server.stats().socketsByUser['alice']).toBe(1);
    for (const tab of newer) expect((await pageEvents(tab)).updatesAvailable).toEqual([]);
    expect((await hostStats(newer[1]!)).socketsOpened).toBe(0);

    // The older tabs close: once their host lets go of the socket (after its last-tab grace), the
    // newer host takes the lock and connects.
    const handover = watchSockets(server);
    const closedAt = Date.now();
    for (const tab of older) await tab.close();
    for (const tab of newer) await waitForHostOf(tab, { buildIdIncludes: '?build=2', tabs: 2 }, 15_000);
    const openMs = Date.now() - closedAt;
    const report = handover.stop();
    console.log(
      `timing (version skew): the newer build's host was OPEN ${openMs} ms after the older tabs closed ` +
        `(the older host keeps its socket for its last-tab grace); server sockets: max ${report.max}, ` +
        `above 1 for ${report.msAboveOne.toFixed(0)} ms; no socket for ` +
        `${report.firstZeroAt && report.backAt ? report.backAt - report.firstZeroAt : '?'} ms`,
    );
    expect(report.max, 'never two sockets across the builds').toBe(1);
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 2 });
    expect(server.stats().socketsByUser['alice']).toBe(1);
    expect(await hostStats(newer[0]!)).toMatchObject({ status: 'OPEN', socketsOpened: 1, tabs: 2 });
    for (const tab of newer) {
      expect(await getSession(tab), 'the newer host resumed the stored session').toMatchObject({
        id: sessionId,
        userId: 'alice',
      });
    }
    for (const tab of newer) expect((await pageEvents(tab)).updatesAvailable).toEqual([]);
  });
});
