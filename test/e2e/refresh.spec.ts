import {
  connectionStatus,
  createClient,
  expect,
  expOf,
  getSession,
  hostStats,
  openSession,
  pageEvents,
  startSession,
  test,
  waitForStatus,
  type PageEvents,
} from './fixtures.ts';

/** `refreshHandler` runs 1 s before `exp` (spec §3); the window allows for timers on a busy 2-core machine. */
const EARLIEST_BEFORE_EXP_MS = 1_500;
const LATEST_BEFORE_EXP_MS = 500;

/** Asserts that each refresh call ran in its window before the `exp` of the token it replaced. */
function expectCallsOneSecondBeforeExp(calls: PageEvents['refreshCalls'], firstToken: string): void {
  let exp = expOf(firstToken)!;
  for (const [i, call] of calls.entries()) {
    const lead = exp - call.t;
    console.log(`timing: refresh ${i + 1} ran ${lead} ms before exp`);
    expect(lead, `refresh ${i + 1}: ms before exp`).toBeGreaterThanOrEqual(LATEST_BEFORE_EXP_MS);
    expect(lead, `refresh ${i + 1}: ms before exp`).toBeLessThanOrEqual(EARLIEST_BEFORE_EXP_MS);
    if (call.token) exp = expOf(call.token)!;
  }
}

/** Waits until `Date.now()` in the page passes `at` (epoch ms): for "nothing happens by then" checks. */
async function waitUntil(page: import('@playwright/test').Page, at: number): Promise<void> {
  await page.waitForFunction((t) => Date.now() >= t, at, { timeout: Math.max(1_000, at - Date.now() + 5_000) });
}

test.describe('token refresh (spec §3, §4)', () => {
  test('calls refreshHandler once per expiry, one second before exp, on the same socket', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', expiresIn: 3 });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', expiresIn: 3 } });

    await page.waitForFunction(() => window.events.refreshCalls.filter((c) => c.token).length >= 2, undefined, {
      timeout: 10_000,
    });
    const { refreshCalls, sessionErrors } = await pageEvents(page);
    // Each call is checked against the exp of the token it replaced: a second call for the same expiry
    // would be measured against the next, later exp and fall outside the window.
    expectCallsOneSecondBeforeExp(refreshCalls.slice(0, 2), token);

    const lastToken = refreshCalls[1]!.token!;
    await expect.poll(async () => (await getSession(page))?.expiresAt).toBe(expOf(lastToken));
    expect(sessionErrors).toEqual([]);
    expect(await connectionStatus(page)).toBe('OPEN');
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    expect((await hostStats(page)).refreshes).toBeGreaterThanOrEqual(2);
  });

  test('refreshes through another tab when the tab that set the handler closed', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const [first, second] = await openTabs(2);
    const token = await mintToken({ sub: 'alice', expiresIn: 4 });
    await openSession(first!, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });
    await openSession(second!, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });
    await first!.close();

    await second!.waitForFunction(() => window.events.refreshCalls.some((c) => c.token), undefined, {
      timeout: 8_000,
    });
    const { refreshCalls } = await pageEvents(second!);
    expect(refreshCalls).toHaveLength(1);
    expectCallsOneSecondBeforeExp(refreshCalls, token);

    await waitUntil(second!, expOf(token)! + 500);
    expect(await connectionStatus(second!)).toBe('OPEN');
    expect((await getSession(second!))?.expiresAt).toBe(expOf(refreshCalls[0]!.token!));
    expect((await pageEvents(second!)).sessionErrors).toEqual([]);
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('the function startSession returns stops its refresh', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', expiresIn: 3 });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });
    await page.evaluate(() => window.stops.forEach((stop) => stop()));

    await waitUntil(page, expOf(token)! + 300);
    expect((await pageEvents(page)).refreshCalls).toEqual([]);
  });

  test('a token without exp never expires: no refresh, still OPEN', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', expiresIn: null });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', expiresIn: 60 } });
    expect((await getSession(page))?.expiresAt).toBeNull();

    await waitUntil(page, Date.now() + 3_000);
    const events = await pageEvents(page);
    expect(events.refreshCalls).toEqual([]);
    expect(events.sessionErrors).toEqual([]);
    expect(await connectionStatus(page)).toBe('OPEN');
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('an already-expired token is refreshed first when a handler is given', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const expired = await mintToken({ sub: 'alice', expiresIn: -10 });
    await openSession(page, server.url, expired, { refresh: { sub: 'alice', expiresIn: 3_600 } });

    const { refreshCalls, sessionErrors } = await pageEvents(page);
    expect(refreshCalls).toHaveLength(1);
    expect((await getSession(page))?.expiresAt).toBe(expOf(refreshCalls[0]!.token!));
    expect(sessionErrors).toEqual([]);
    expect(server.stats()).toMatchObject({ sockets: 1, sessions: 1 });
  });

  test('an already-expired token without a handler fails with UNAUTHORIZED and ends CLOSED', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    await createClient(page, { serverUrl: server.url });
    const result = await startSession(page, await mintToken({ sub: 'alice', expiresIn: -10 }));

    expect(result.ok, 'startSession rejects').toBe(false);
    expect(result.error).toMatchObject({ code: 'UNAUTHORIZED' });
    await waitForStatus(page, 'CLOSED');
    await expect.poll(async () => (await pageEvents(page)).sessionErrors.map((e) => e.type)).toEqual(['UNAUTHORIZED']);
    expect((await pageEvents(page)).ctorSessionErrors.map((e) => e.type)).toEqual(['UNAUTHORIZED']);
    expect(server.stats().sessions).toBe(0);
  });

  test('background refreshes never change connectionStatus', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', expiresIn: 3 });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', expiresIn: 3 } });

    await page.waitForFunction(() => window.events.refreshCalls.filter((c) => c.token).length >= 2, undefined, {
      timeout: 10_000,
    });
    const { refreshCalls } = await pageEvents(page);
    await expect.poll(async () => (await getSession(page))?.expiresAt).toBe(expOf(refreshCalls[1]!.token!));
    expect((await pageEvents(page)).statuses.map((s) => s.status)).toEqual(['UNINITIALIZED', 'CONNECTING', 'OPEN']);
    expect(server.stats().socketsOpened).toBe(1);
  });

  test('after endSession the status is UNINITIALIZED and no refresh handler runs', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', expiresIn: 3 });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', expiresIn: 3 } });

    const ended = await page.evaluate(() => window.harness.call('endSession'));
    expect(ended.ok, JSON.stringify(ended)).toBe(true);
    await waitForStatus(page, 'UNINITIALIZED');

    await waitUntil(page, expOf(token)! + 300);
    const events = await pageEvents(page);
    expect(events.refreshCalls).toEqual([]);
    expect(events.sessionErrors).toEqual([]);
    expect(await connectionStatus(page)).toBe('UNINITIALIZED');
    expect(server.stats().sockets).toBe(0);
  });
});
