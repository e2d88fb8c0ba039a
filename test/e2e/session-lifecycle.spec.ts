import { createClient, expect, expOf, getSession, openSession, pageEvents, test, waitForStatus } from './fixtures.ts';

test.describe('session lifecycle across tabs (spec §3, §4)', () => {
  test('updateSessionToken replaces the token on the live socket', async ({ server, mintToken, openTabs }) => {
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice', expiresIn: 600 });
    for (const tab of tabs) await openSession(tab, server.url, token);

    const newer = await mintToken({ sub: 'alice', expiresIn: 7_200 });
    const update = await tabs[0]!.evaluate((t) => window.harness.call('updateSessionToken', t), newer);
    expect(update.ok, JSON.stringify(update)).toBe(true);

    for (const tab of tabs) await expect.poll(async () => (await getSession(tab))?.expiresAt).toBe(expOf(newer));
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    for (const tab of tabs) {
      const events = await pageEvents(tab);
      expect(events.sessionErrors).toEqual([]);
      expect(events.statuses.at(-1)?.status).toBe('OPEN');
    }
  });

  test('endSession in one tab logs every tab out', async ({ server, mintToken, openTabs }) => {
    const tabs = await openTabs(3);
    const token = await mintToken({ sub: 'alice' });
    for (const tab of tabs) await openSession(tab, server.url, token);

    const ended = await tabs[2]!.evaluate(() => window.harness.call('endSession'));
    expect(ended.ok, JSON.stringify(ended)).toBe(true);

    for (const tab of tabs) {
      await waitForStatus(tab, 'UNINITIALIZED');
      await expect.poll(() => getSession(tab)).toBeUndefined();
    }
    await expect.poll(() => server.stats()).toMatchObject({ sockets: 0, sessions: 0 });
  });

  test("a second user's startSession replaces the first user's session in every tab", async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const [aliceTab, switchingTab] = await openTabs(2);
    const alice = await mintToken({ sub: 'alice' });
    await openSession(aliceTab!, server.url, alice);
    await openSession(switchingTab!, server.url, alice);
    const aliceSession = await getSession(aliceTab!);

    const bob = await mintToken({ sub: 'bob', roles: ['editor'] });
    const result = await switchingTab!.evaluate((t) => window.harness.startSession(t, { waitForOpen: true }), bob);
    expect(result.error).toBeUndefined();

    for (const tab of [aliceTab!, switchingTab!]) {
      await expect.poll(async () => (await getSession(tab))?.userId).toBe('bob');
      const session = await getSession(tab);
      expect(session?.id).not.toBe(aliceSession?.id);
      expect(session?.roles).toEqual(['editor']);
    }
    await expect.poll(() => server.stats().sockets).toBe(1);
    const stats = server.stats();
    expect(stats.socketsByUser['bob']).toBe(1);
    expect(stats.socketsByUser['alice'] ?? 0).toBe(0);
  });

  test('a SessionError thrown in the host keeps its class and code on the page', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    await createClient(page, { serverUrl: server.url });
    const token = await mintToken({ sub: 'alice' });

    const seen = await page.evaluate(async (t) => {
      try {
        await window.client.updateSessionToken(t);
        return undefined;
      } catch (err) {
        const e = err as { code?: unknown; name?: unknown };
        return {
          isNoActiveSessionError: err instanceof window.SS.errors.NoActiveSessionError,
          isSessionError: err instanceof window.SS.errors.SessionError,
          code: e.code,
          name: e.name,
        };
      }
    }, token);
    expect(seen).toEqual({
      isNoActiveSessionError: true,
      isSessionError: true,
      code: 'NO_ACTIVE_SESSION',
      name: 'NoActiveSessionError',
    });
  });

  test('updateSessionToken rejects with typed errors', async ({ server, mintToken, openTab }) => {
    const page = await openTab();
    await createClient(page, { serverUrl: server.url });
    const update = (token: string) => page.evaluate((t) => window.harness.call('updateSessionToken', t), token);

    const noSession = await update(await mintToken({ sub: 'alice' }));
    expect(!noSession.ok && noSession.error).toMatchObject({
      name: 'NoActiveSessionError',
      code: 'NO_ACTIVE_SESSION',
      instanceOf: expect.arrayContaining(['NoActiveSessionError', 'SessionError']),
    });

    // Whether a refused update ends the session is not specified: restart it before each case.
    const ensureOpen = async () => {
      const token = await mintToken({ sub: 'alice', roles: ['user'] });
      const started = await page.evaluate((t) => window.harness.startSession(t, { waitForOpen: true }), token);
      expect(started.openMs, JSON.stringify(started)).toBeDefined();
    };

    await ensureOpen();
    const expired = await update(await mintToken({ sub: 'alice', roles: ['user'], expiresIn: -10 }));
    expect(!expired.ok && expired.error).toMatchObject({
      name: 'TokenExpiredError',
      code: 'TOKEN_EXPIRED',
      instanceOf: expect.arrayContaining(['TokenExpiredError', 'SessionError']),
    });

    await ensureOpen();
    const garbage = await update('not-a-jwt');
    expect(!garbage.ok && garbage.error).toMatchObject({ code: 'UNAUTHORIZED' });

    await ensureOpen();
    const otherRoles = await update(await mintToken({ sub: 'alice', roles: ['admin'] }));
    expect(!otherRoles.ok && otherRoles.error).toMatchObject({
      name: 'SessionRolesMismatchError',
      code: 'ROLES_MISMATCH',
      instanceOf: expect.arrayContaining(['SessionRolesMismatchError', 'SessionError']),
    });
  });
});
