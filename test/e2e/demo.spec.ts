import { expect, test } from './fixtures.ts';
import {
  demoDataDir,
  devtools,
  feedSeqs,
  feedTexts,
  openDemo,
  panelField,
  publishInDemo,
  signIn,
  signOut,
  startDemo,
  wholeTopic,
  type Demo,
} from './demo-helpers.ts';

const FEED = 'feed:public';

/**
 * The status panel's structure with the values that vary as patterns (structure, not pixels):
 * the session id is checked for equality across tabs separately.
 */
const STATUS_PANEL = `
- heading "Status OPEN" [level=2]
- term: Host
- definition: /shared-worker \\(shared-session@\\d+\\.\\d+\\.\\d+\\S* \\/assets\\/worker-[\\w-]+\\.js\\)/
- term: Socket
- definition: OPEN
- term: Session id
- definition: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
- term: User / roles
- definition: "alice [member]"
- term: Tabs attached
- definition: "2"
- term: Sockets opened by host
- definition: "1"
- term: Token expires in
- definition: /\\d+ s/
- term: Refreshes
- definition: /\\d+/
- term: Last session error
- definition: none
- term: Messages received
- definition: "1"
- term: Outbox
- definition: "0"
- term: App update
- definition: up to date
`;

test.describe('the demo (spec §9)', () => {
  let demo: Demo;
  let removeData: () => Promise<void>;

  test.beforeAll(async () => {
    const data = await demoDataDir();
    removeData = data.remove;
    demo = await startDemo({ port: 0, serverPort: 0, dataDir: data.dir, tokenTtlSeconds: 30 });
  });

  test.afterAll(async () => {
    await demo?.close();
    await removeData?.();
  });

  test('two tabs of the demo sign in to one session over one socket, and each status panel shows it', async ({
    context,
  }, testInfo) => {
    const tab1 = await context.newPage();
    await openDemo(tab1, demo.url);
    await expect(tab1.locator('#status-badge')).toHaveText('UNINITIALIZED');
    await signIn(tab1);

    // The second tab signs in by itself: the demo remembers the user and joins the running session.
    const tab2 = await context.newPage();
    await openDemo(tab2, demo.url);
    await expect(tab2.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });

    await publishInDemo(tab1, 'hello from tab 1');
    for (const tab of [tab1, tab2]) {
      await expect.poll(() => feedTexts(tab)).toEqual(['alice: hello from tab 1']);
      // The panel's counters come from the host every second.
      await expect(panelField(tab, 'tabs')).toHaveText('2');
      await expect(panelField(tab, 'sockets')).toHaveText('1');
      await expect(panelField(tab, 'socket')).toHaveText('OPEN');
      await expect(panelField(tab, 'messages')).toHaveText('1');
      await expect(tab.locator('#status')).toMatchAriaSnapshot(STATUS_PANEL);
    }
    const sessionIds = await Promise.all([tab1, tab2].map((tab) => panelField(tab, 'session').textContent()));
    expect(sessionIds[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sessionIds[1], 'the same session id in both tabs').toBe(sessionIds[0]);
    expect(demo.server.stats()).toMatchObject({ sessions: 1, sockets: 1, socketsOpened: 1, changesStored: 1 });
    expect(demo.server.stats().socketsByUser['alice']).toBe(1);

    // Artefacts: a picture of each tab, kept in the test's output directory and attached to the report.
    for (const [i, tab] of [tab1, tab2].entries()) {
      const file = testInfo.outputPath(`demo-tab-${i + 1}.png`);
      await tab.screenshot({ path: file, fullPage: true });
      await testInfo.attach(`demo tab ${i + 1}`, { path: file, contentType: 'image/png' });
    }
  });

  test('signing in and out in one tab shows the session and the feed in every tab opened before', async ({
    context,
  }) => {
    const [tab1, tab2] = [await context.newPage(), await context.newPage()];
    for (const tab of [tab1, tab2]) await openDemo(tab, demo.url);
    const { seq: seeded } = await demo.server.publish(FEED, { text: 'seeded before sign-in', from: 'server' });

    await signIn(tab1);
    const sessionId = await panelField(tab1, 'session').textContent();
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    for (const tab of [tab1, tab2]) {
      await expect(tab.locator('#status-badge')).toHaveText('OPEN');
      await expect(panelField(tab, 'session')).toHaveText(sessionId!);
      await expect(panelField(tab, 'user')).toHaveText('alice [member]');
      // The whole topic, once, in order: the tab that did not sign in subscribed by itself.
      await expect.poll(() => feedSeqs(tab)).toEqual(wholeTopic(seeded));
      await expect(panelField(tab, 'messages')).toHaveText(String(seeded));
    }
    expect(await feedTexts(tab2)).toContain('server: seeded before sign-in');

    await publishInDemo(tab2, 'live from tab 2');
    for (const tab of [tab1, tab2]) {
      await expect.poll(() => feedSeqs(tab)).toEqual(wholeTopic(seeded + 1));
      expect((await feedTexts(tab))[0]).toBe('alice: live from tab 2');
    }

    await signOut(tab2);
    for (const tab of [tab1, tab2]) {
      await expect(tab.locator('#status-badge')).toHaveText('UNINITIALIZED');
      await expect(panelField(tab, 'session')).toHaveText('–');
      await expect.poll(() => feedSeqs(tab), 'the feed is cleared when the session ends').toEqual([]);
      await expect(panelField(tab, 'messages')).toHaveText('0');
    }

    // Another user signs in from the other tab: both tabs show the new session's feed, once.
    await tab2.locator('#other-user').click();
    await expect(tab2.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });
    const other = await panelField(tab2, 'user').textContent();
    expect(other).toMatch(/^user-\w{4} \[member\]$/);
    for (const tab of [tab1, tab2]) {
      await expect(panelField(tab, 'user')).toHaveText(other!);
      await expect(panelField(tab, 'session')).not.toHaveText(sessionId!);
      await expect.poll(() => feedSeqs(tab)).toEqual(wholeTopic(seeded + 1));
    }
    expect(demo.server.stats().sockets, 'still one socket for the two tabs').toBe(1);
  });

  test('the devtools panel is one click away and follows the host: tabs, subscriptions, cursors', async ({
    context,
  }) => {
    const tab1 = await context.newPage();
    await openDemo(tab1, demo.url);
    await signIn(tab1);
    const panel = devtools(tab1);
    await expect(panel.locator('[part="summary"]')).toContainText('shared-worker · 1 tab');
    await expect(panel.locator('[data-section="host"]')).toBeHidden(); // collapsed: only its bar shows
    await panel.locator('[part="summary"]').click();
    await expect(panel).toHaveAttribute('open', '');
    await expect(panel.locator('[data-section="host"]')).toContainText('alice [member]');

    const tab2 = await context.newPage();
    await openDemo(tab2, demo.url); // signs in by itself (the demo remembers the user)
    await expect(panel.locator('[data-section="tabs"] > summary')).toHaveText('Tabs (2)');
    await expect(panel.locator('[data-section="tabs"] tbody tr')).toHaveCount(2);

    const { seq } = await demo.server.publish(FEED, { text: 'seen by the devtools', from: 'server' });
    const feedRow = panel.locator('[data-section="topics"] tbody tr').filter({ hasText: FEED });
    await expect(feedRow.locator('td').nth(1), 'the cursor of the feed').toHaveText(String(seq));
    await expect(feedRow.locator('td').nth(3), 'tab subscriptions').toHaveText('2');

    await tab2.close();
    await expect(panel.locator('[data-section="tabs"] > summary')).toHaveText('Tabs (1)');
    await expect(feedRow.locator('td').nth(3)).toHaveText('1');
  });
});
