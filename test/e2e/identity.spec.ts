import type { Browser } from '@playwright/test';
import {
  expect,
  expOf,
  getSession,
  loadCreateSessionServer,
  openSession,
  pageEvents,
  signToken,
  startSession,
  test,
  waitForSessionError,
  type SessionServer,
  type SessionServerOptions,
} from './fixtures.ts';

/** A second reference server with its own auth options (the fixture's server only takes a secret). */
async function startServerWith(auth: SessionServerOptions['auth']): Promise<Omit<SessionServer, 'secret'>> {
  const createSessionServer = await loadCreateSessionServer();
  return createSessionServer({ port: 0, host: '127.0.0.1', logger: false, auth });
}

/** A page of the test app in a fresh browser profile (a browser of its own, as far as the host goes). */
async function openTabInNewProfile(browser: Browser, appUrl: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(appUrl);
  await page.waitForFunction(() => window.harness !== undefined);
  return { page, context };
}

test.describe('identity from the server: any identity provider (spec §7)', () => {
  test('roles from a custom claim reach every tab, and a refresh with the same claim keeps the session', async ({
    server,
    openTabs,
  }) => {
    const scoped = await startServerWith({ secret: server.secret, rolesClaim: 'scope' });
    try {
      const tabs = await openTabs(2);
      const token = await signToken(server.secret, {
        sub: 'alice',
        roles: [],
        expiresIn: 3,
        extra: { scope: 'write read' },
      });
      const refresh = { sub: 'alice', roles: [], expiresIn: 60, extra: { scope: 'read write' } };
      for (const tab of tabs) await openSession(tab, scoped.url, token, { refresh });
      for (const tab of tabs)
        expect((await getSession(tab))?.roles, 'roles as the server reads them').toEqual(['read', 'write']);

      await expect
        .poll(async () => (await getSession(tabs[0]!))?.expiresAt ?? 0, { timeout: 10_000 })
        .toBeGreaterThan(expOf(token)!);
      for (const tab of tabs) expect((await pageEvents(tab)).sessionErrors).toEqual([]);
      expect(scoped.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    } finally {
      await scoped.close();
    }
  });

  test('opaque session tokens checked by auth.verify: start, join without a new socket, identity from the server, refusal', async ({
    browser,
    appUrl,
    openTabs,
  }) => {
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const opaque = await startServerWith({
      verify: async (token: string) => {
        if (!token.startsWith('session-')) throw new Error('unknown session');
        return { sub: 'bob', roles: ['member'], exp: expiresAt };
      },
    });
    try {
      const [first, second] = await openTabs(2);
      await openSession(first!, opaque.url, 'session-7f3a9c');
      expect(await getSession(first!)).toMatchObject({ userId: 'bob', roles: ['member'], expiresAt: expiresAt * 1000 });
      await openSession(second!, opaque.url, 'session-7f3a9c');
      expect((await getSession(second!))?.id).toBe((await getSession(first!))?.id);
      expect(opaque.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });

      const { page, context } = await openTabInNewProfile(browser, appUrl);
      try {
        await page.evaluate((url) => window.harness.createClient({ serverUrl: url }), opaque.url);
        const refused = await startSession(page, 'not-a-session');
        expect(refused.ok, 'startSession rejects').toBe(false);
        expect(!refused.ok && refused.error).toMatchObject({ code: 'UNAUTHORIZED' });
        await waitForSessionError(page, 'UNAUTHORIZED');
        expect(await getSession(page), 'a refused start leaves no session').toBeUndefined();
      } finally {
        await context.close();
      }
    } finally {
      await opaque.close();
    }
  });
});
