import type { Browser, CDPSession } from '@playwright/test';
import { expect, getSession, openSession, pageEvents, test } from './fixtures.ts';
import { hostKind, waitForHostOf } from './host-helpers.ts';

/**
 * Freezes the SharedWorker's JavaScript through a browser-level CDP session (Playwright does not see
 * SharedWorkers): attach to the `shared_worker` target without flattening and send it
 * `Debugger.enable` + `Debugger.pause` as raw target messages. Returns a function that resumes it.
 */
async function pauseSharedWorker(browser: Browser): Promise<{ resume(): Promise<void>; cdp: CDPSession }> {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as {
    targetInfos: { targetId: string; type: string; url: string }[];
  };
  const workers = targetInfos.filter((t) => t.type === 'shared_worker');
  expect(workers, 'one SharedWorker to pause').toHaveLength(1);
  const { sessionId } = (await cdp.send('Target.attachToTarget', {
    targetId: workers[0]!.targetId,
    flatten: false,
  })) as { sessionId: string };
  let nextId = 1;
  const answers = new Map<number, (message: { error?: { message: string } }) => void>();
  cdp.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as { id?: number; error?: { message: string } };
    if (message.id !== undefined) answers.get(message.id)?.(message);
  });
  const send = async (method: string, waitForAnswer = true) => {
    const id = nextId++;
    const answered = new Promise<{ error?: { message: string } }>((resolve) => answers.set(id, resolve));
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
    if (!waitForAnswer) return;
    const answer = await answered;
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  };
  await send('Debugger.enable');
  // Debugger.pause is answered at once; the worker stops at its next statement (the next message).
  await send('Debugger.pause');
  return {
    cdp,
    resume: async () => {
      await send('Debugger.resume', false);
      await cdp.detach();
    },
  };
}

test.describe('host health (README "Hosts, updates and offline")', () => {
  test('a SharedWorker host that stops answering is reported by onHostUnavailable within 15 s, and the tabs carry on through a leader tab host', async ({
    browser,
    server,
    mintToken,
    openTabs,
  }) => {
    test.setTimeout(60_000);
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice', expiresIn: 600 });
    for (const tab of tabs) await openSession(tab, server.url, token);
    for (const tab of tabs) expect(await hostKind(tab)).toBe('shared-worker');
    const sessionId = (await getSession(tabs[0]!))!.id;

    const frozen = await pauseSharedWorker(browser);
    const pausedAt = Date.now();
    let resumed = false;
    try {
      // No call from the app: only the tabs' health pings (every 5 s, two missed in a row) can notice.
      for (const tab of tabs) {
        await tab.waitForFunction(() => window.events.hostUnavailable.length > 0, undefined, { timeout: 25_000 });
      }
      const events = await Promise.all(tabs.map(pageEvents));
      const afterMs = events.map((e) => e.hostUnavailable[0]!.t - pausedAt);
      const first = events[0]!.hostUnavailable[0]!;
      console.log(
        `timing (host health): onHostUnavailable ${afterMs.map((ms) => `${ms} ms`).join(', ')} after the ` +
          `SharedWorker was paused (${first.code}: ${first.message})`,
      );
      for (const e of events) expect(e.hostUnavailable).toHaveLength(1);
      for (const e of events) expect(e.hostUnavailable[0]!.code).toBe('HOST_UNAVAILABLE');
      // 5 s ping period, two misses: at most ~15 s after the freeze (plus timer slack).
      for (const ms of afterMs) expect.soft(ms, 'reported within ~15 s of the freeze').toBeLessThanOrEqual(16_000);

      // host: 'auto' moves the tabs to a leader tab host. The frozen worker still holds the socket
      // (and the socket owner lock); once it runs again, the session must carry on, on one socket.
      for (const tab of tabs) expect(await hostKind(tab)).toBe('leader');
      await frozen.resume();
      resumed = true;
      const resumedAt = Date.now();
      const status = await Promise.all(
        tabs.map((tab) =>
          tab
            .waitForFunction(() => window.client.connectionStatus === 'OPEN', undefined, { timeout: 10_000 })
            .then(
              () => `OPEN after ${Date.now() - resumedAt} ms`,
              async () => `${await tab.evaluate(() => window.client.connectionStatus)} 10 s after the worker resumed`,
            ),
        ),
      );
      console.log(
        `host health: after the worker resumed, the tabs on the leader host: ${status.join(', ')}; server ${JSON.stringify(server.stats())}`,
      );
      for (const tab of tabs) await waitForHostOf(tab, { kind: 'leader', tabs: 2 }, 1_000);
      for (const tab of tabs) expect((await getSession(tab))?.id).toBe(sessionId);
      expect(server.stats()).toMatchObject({ sockets: 1 });
    } finally {
      if (!resumed) await frozen.resume();
    }
  });
});
