import {
  connectionStatus,
  createClient,
  expect,
  getSession,
  openSession,
  pageEvents,
  quietPeriod,
  startSession,
  test,
  waitForStatus,
} from './fixtures.ts';

test.describe('one session, many tabs (spec §4)', () => {
  test('keeps one socket open across three tabs', async ({ server, mintToken, openTabs }) => {
    const tabs = await openTabs(3);
    const token = await mintToken({ sub: 'alice' });

    const openMs: number[] = [];
    for (const tab of tabs) openMs.push((await openSession(tab, server.url, token)).openMs!);
    console.log(
      `timing: startSession → OPEN: first tab ${openMs[0]!.toFixed(1)} ms, ` +
        `joining tabs ${openMs
          .slice(1)
          .map((ms) => ms.toFixed(1))
          .join(' ms, ')} ms`,
    );

    const stats = server.stats();
    expect(stats.sockets).toBe(1);
    expect(stats.socketsOpened).toBe(1);
    expect(stats.socketsByUser['alice']).toBe(1);
    const sessions = await Promise.all(tabs.map(getSession));
    const ids = new Set(sessions.map((s) => s?.id));
    expect(ids.size, 'every tab sees the same session').toBe(1);
    for (const session of sessions) expect(session).toMatchObject({ userId: 'alice', roles: ['user'], tabs: 3 });
  });

  test('a tab that starts a session after another joins it without a new socket', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const [first, second] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    await openSession(first!, server.url, token);
    const before = server.stats();
    const firstStatuses = (await pageEvents(first!)).statuses.length;

    const { openMs } = await openSession(second!, server.url, token);
    console.log(`timing: joining tab startSession → OPEN ${openMs!.toFixed(1)} ms`);

    expect(server.stats().socketsOpened).toBe(before.socketsOpened);
    expect(server.stats().sockets).toBe(1);
    expect((await getSession(second!))?.id).toBe((await getSession(first!))?.id);
    expect((await pageEvents(first!)).statuses.slice(firstStatuses), 'the first tab saw no reconnect').toEqual([]);
  });

  test('startSession(token, false) opens no socket until connect()', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    await createClient(page, { serverUrl: server.url });
    const result = await startSession(page, await mintToken({ sub: 'alice' }), { autoConnect: false });
    expect(result.error).toBeUndefined();

    // Nothing to await: the assertion is that no socket appears.
    await quietPeriod(page, 500);
    expect(server.stats().socketsOpened).toBe(0);
    expect(['OPEN', 'CONNECTING']).not.toContain(await connectionStatus(page));

    const connected = await page.evaluate(() => window.harness.call('connect'));
    expect(connected.ok, JSON.stringify(connected)).toBe(true);
    await waitForStatus(page, 'OPEN');
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('a reload keeps the session', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice' });
    await openSession(page, server.url, token);
    const before = await getSession(page);

    await page.reload();
    await page.waitForFunction(() => window.harness !== undefined);
    const { openMs } = await openSession(page, server.url, token);
    console.log(`timing: after reload, startSession → OPEN ${openMs!.toFixed(1)} ms`);

    expect((await getSession(page))?.id).toBe(before?.id);
    expect(server.stats().sockets).toBe(1);
  });

  test("a lone tab's reload keeps the socket", async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice' });
    await openSession(page, server.url, token);

    await page.reload();
    await page.waitForFunction(() => window.harness !== undefined);
    await openSession(page, server.url, token);

    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
  });

  test('closing a tab drops it from getSession().tabs within 1 s', async ({ server, mintToken, openTabs }) => {
    const [stay, leave] = await openTabs(2);
    const token = await mintToken({ sub: 'alice' });
    await openSession(stay!, server.url, token);
    await openSession(leave!, server.url, token);
    expect((await getSession(stay!))?.tabs).toBe(2);

    const closedAt = Date.now();
    await leave!.close();
    await stay!.waitForFunction(async () => (await window.client.getSession())?.tabs === 1, undefined, {
      polling: 25,
      timeout: 3_000,
    });
    const detectedMs = Date.now() - closedAt;
    console.log(`timing: closed tab dropped from getSession().tabs after ${detectedMs} ms`);
    expect(detectedMs).toBeLessThanOrEqual(1_000);
    expect(server.stats().sockets).toBe(1);
  });
});

test.describe('startSession → OPEN timings', () => {
  test('a joining tab reaches OPEN without a socket of its own (5 fresh browser profiles)', async ({
    browser,
    server,
    mintToken,
    appUrl,
  }) => {
    const token = await mintToken({ sub: 'alice' });
    const samples: { cold: number; first: number; joining: number }[] = [];
    for (let round = 0; round < 5; round++) {
      const context = await browser.newContext();
      const [first, joining] = [await context.newPage(), await context.newPage()];
      for (const page of [first, joining]) {
        await page.goto(appUrl);
        await page.waitForFunction(() => window.harness !== undefined);
      }
      const measure = (page: typeof first, cold: boolean) =>
        page.evaluate(
          async ([serverUrl, t, isCold]) => {
            const constructed = performance.now();
            window.harness.createClient({ serverUrl });
            // A warm start lets the client attach to the host first, so only startSession is timed.
            if (!isCold) await window.client.getSession();
            const started = performance.now();
            const result = await window.harness.startSession(t, { waitForOpen: true });
            return { fromConstructor: started - constructed + (result.openMs ?? NaN), fromStart: result.openMs ?? NaN };
          },
          [server.url, token, cold] as const,
        );
      const cold = await measure(first, true);
      const opened = server.stats().socketsOpened;
      const joined = await measure(joining, false);
      expect(server.stats().socketsOpened, 'the joining tab opened no socket').toBe(opened);
      samples.push({ cold: cold.fromConstructor, first: cold.fromStart, joining: joined.fromStart });
      await context.close();
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const describe = (key: keyof (typeof samples)[number]) =>
      `median ${median(samples.map((s) => s[key])).toFixed(1)} ms (${samples.map((s) => s[key].toFixed(1)).join(', ')})`;
    console.log(`timing: first tab, new SessionClient → OPEN (worker start included): ${describe('cold')}`);
    console.log(`timing: first tab, startSession → OPEN: ${describe('first')}`);
    console.log(`timing: joining tab, startSession → OPEN: ${describe('joining')}`);
    for (const sample of samples) expect(sample.joining).toBeLessThan(1_000);
  });
});
