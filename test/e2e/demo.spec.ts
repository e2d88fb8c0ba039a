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
});
