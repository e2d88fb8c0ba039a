/**
 * The testing kit's host tools, used the way a user's suite uses them (spec §8, issue 13):
 * `killHost`, `freezeTab` / `resumeTab`, `hostEvaluate` and `withoutSharedWorker` from the built
 * `shared-session/testing`, in Chromium (they reach the SharedWorker over CDP).
 */
import {
  assertSameOrderedChanges,
  expect,
  expOf,
  freezeTab,
  getSession,
  hostEvaluate,
  killHost,
  openSession,
  pageEvents,
  resumeTab,
  test,
  TestingKitError,
  withoutSharedWorker,
} from './fixtures.ts';
import { hostKind, waitForHostOf } from './host-helpers.ts';
import { seqsOf, subscribe, waitForChanges } from './topic-helpers.ts';

test.describe('testing kit: host tools (README "Testing your app")', () => {
  test('killHost ends the SharedWorker and the tabs reach OPEN again on one socket, in the same session', async ({
    context,
    server,
    mintToken,
    openTabs,
  }) => {
    test.setTimeout(60_000);
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, server.url, token);
    const sessionId = (await getSession(tabs[0]!))!.id;

    const openedBefore = server.stats().socketsOpened;
    const killedAt = Date.now();
    expect(await killHost(context)).toEqual({ kind: 'shared-worker' });
    // The tabs notice at once (the worker's alive lock): the new host may reconnect before a poll
    // could see no socket, so the old socket's end shows as one socket open after one more opened.
    for (const tab of tabs) await waitForHostOf(tab, { tabs: 2 }, 30_000);
    console.log(
      `testing kit: killHost → both tabs OPEN on a ${await hostKind(tabs[0]!)} host ${Date.now() - killedAt} ms later`,
    );
    for (const tab of tabs) expect((await getSession(tab))?.id).toBe(sessionId);
    await expect.poll(() => server.stats().sockets, 'the worker took its socket with it').toBe(1);
    expect(server.stats().socketsOpened).toBe(openedBefore + 1);
  });

  test('killHost ends the leader tab host and the tabs reach OPEN again on one socket', async ({
    context,
    server,
    mintToken,
    openTabs,
  }) => {
    test.setTimeout(60_000);
    await withoutSharedWorker(context);
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, server.url, token);
    for (const tab of tabs) expect(await hostKind(tab)).toBe('leader');
    const sessionId = (await getSession(tabs[0]!))!.id;

    const openedBefore = server.stats().socketsOpened;
    const killedAt = Date.now();
    expect(await killHost(context)).toEqual({ kind: 'leader' });
    // The tabs hear of it at once (the worker's alive lock) and the leader tab starts another
    // worker: its socket may open before a poll could see none.
    for (const tab of tabs) await waitForHostOf(tab, { tabs: 2, kind: 'leader' }, 30_000);
    const recoveredMs = Date.now() - killedAt;
    console.log(`testing kit: killHost (leader) → both tabs OPEN again ${recoveredMs} ms later`);
    // Well inside two missed health pings (HOST_HEALTH_INTERVAL_MS = 5 s), which is all it had before.
    expect(recoveredMs).toBeLessThan(5_000);
    for (const tab of tabs) expect((await getSession(tab))?.id).toBe(sessionId);
    await expect.poll(() => server.stats().sockets, 'the leader worker took its socket with it').toBe(1);
    expect(server.stats().socketsOpened).toBe(openedBefore + 1);
  });

  test('with the tab whose refresh handler the host prefers frozen, the refresh still runs on time through another tab', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    test.setTimeout(30_000);
    const [other, preferred] = await openTabs(2);
    const token = await mintToken({ sub: 'alice', expiresIn: 4 });
    // The host calls the most recently registered visible tab's handler first: `preferred`.
    await openSession(other!, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });
    await openSession(preferred!, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });

    await freezeTab(preferred!);
    try {
      await other!.waitForFunction(() => window.events.refreshCalls.some((c) => c.token), undefined, {
        timeout: 8_000,
      });
      const [call] = (await pageEvents(other!)).refreshCalls;
      const leadMs = expOf(token)! - call!.t;
      console.log(`testing kit: with the preferred tab frozen, the other tab refreshed ${leadMs} ms before exp`);
      // On time: before exp. The host gives a silent tab half the time left (≥ 250 ms), then asks the next.
      expect(leadMs).toBeGreaterThanOrEqual(250);
      expect(leadMs).toBeLessThanOrEqual(1_500);
      expect((await pageEvents(other!)).sessionErrors).toEqual([]);
    } finally {
      await resumeTab(preferred!);
    }
    expect((await getSession(preferred!))?.expiresAt, 'the session runs on the new token').toBeGreaterThan(
      expOf(token)!,
    );
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('a tab frozen while changes stream receives every one of them, in order, once it resumes', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const [awake, sleeper] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of [awake!, sleeper!]) {
      await openSession(tab, server.url, token);
      await subscribe(tab, 'feed', 'feed');
    }
    await expect.poll(() => server.stats().subscriptions).toBe(1);

    await freezeTab(sleeper!);
    try {
      for (let n = 1; n <= 5; n++) await server.publish('feed', { n });
      await waitForChanges(awake!, 'feed', 5);
    } finally {
      await resumeTab(sleeper!);
    }
    await waitForChanges(sleeper!, 'feed', 5);
    assertSameOrderedChanges(await Promise.all([awake!, sleeper!].map((tab) => seqsOf(tab, 'feed'))), 5);
    expect(await getSession(sleeper!), 'the frozen tab stayed in the session').toMatchObject({ tabs: 2 });
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('hostEvaluate runs code in the SharedWorker and in the leader host', async ({
    context,
    browser,
    server,
    mintToken,
    openTabs,
  }) => {
    const [tab] = await openTabs(1);
    await openSession(tab!, server.url, await mintToken({ sub: 'alice' }));

    const userAgent = await hostEvaluate(context, () => navigator.userAgent);
    expect(userAgent).toContain(browser.version().split('.')[0]);
    const host = await hostEvaluate(
      context,
      (suffix) => ({
        name: (self as { name?: string }).name,
        scope: typeof (self as { onconnect?: unknown }).onconnect,
        suffix,
      }),
      'ok',
    );
    expect(host, 'the SharedWorker named shared-session').toEqual({
      name: 'shared-session',
      scope: 'object',
      suffix: 'ok',
    });
    expect(await hostEvaluate(context, async () => (await navigator.locks.query()).held?.length ?? 0)).toBeGreaterThan(
      0,
    );

    const failure = await hostEvaluate(context, () => {
      throw new Error('thrown on purpose');
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TestingKitError);
    expect(failure).toMatchObject({ name: 'TestingKitError', code: 'HOST_EVALUATE_FAILED' });
    expect(String((failure as Error).message)).toContain('thrown on purpose');

    const leaderContext = await browser.newContext();
    try {
      await withoutSharedWorker(leaderContext);
      const page = await leaderContext.newPage();
      await expect(hostEvaluate(leaderContext, () => 1)).rejects.toMatchObject({ code: 'NO_HOST' });
      await page.goto(tab!.url());
      await page.waitForFunction(() => window.harness !== undefined);
      await page.evaluate((url) => window.harness.createClient({ serverUrl: url }), server.url);
      await expect
        .poll(() => hostEvaluate(leaderContext, () => (self as { name?: string }).name).catch(() => undefined))
        .toBe('shared-session-leader');
    } finally {
      await leaderContext.close();
    }
  });
});
