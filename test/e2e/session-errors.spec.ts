import type { Page } from '@playwright/test';
import {
  connectionStatus,
  createClient,
  expect,
  expOf,
  openSession,
  pageEvents,
  quietPeriod,
  startSession,
  test,
  waitForSessionError,
  type SessionServer,
} from './fixtures.ts';

/** Statuses a tab may not report once a session error closed the socket for good. */
const LIVE_STATUSES = ['OPEN', 'CONNECTING'];

/** Asserts that no reconnect loop runs: the server sees no new socket over `ms`. */
async function expectNoReconnect(page: Page, server: SessionServer, ms = 2_000): Promise<void> {
  const opened = server.stats().socketsOpened;
  await quietPeriod(page, ms);
  expect(server.stats().socketsOpened, 'sockets opened after the session error').toBe(opened);
  expect(server.stats().sockets).toBe(0);
}

test.describe('session errors reach every tab and stop the socket (spec §3)', () => {
  test('a token with other roles ends the session with ROLES_MISMATCH in every tab and closes the socket', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice', roles: ['user'] });
    for (const tab of tabs) await openSession(tab, server.url, token);

    const admin = await mintToken({ sub: 'alice', roles: ['admin'] });
    const update = await tabs[0]!.evaluate((t) => window.harness.call('updateSessionToken', t), admin);
    expect(update.ok).toBe(false);
    expect(!update.ok && update.error).toMatchObject({ name: 'SessionRolesMismatchError', code: 'ROLES_MISMATCH' });

    for (const tab of tabs) await waitForSessionError(tab, 'ROLES_MISMATCH');
    await expect.poll(() => server.stats().sockets).toBe(0);
    await expectNoReconnect(tabs[0]!, server);
    for (const tab of tabs) expect(LIVE_STATUSES).not.toContain(await connectionStatus(tab));
  });

  test('an expiring token without a handler ends with TOKEN_EXPIRED in every tab at exp, without a reconnect loop', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const tabs = await openTabs(2);
    const token = await mintToken({ sub: 'alice', expiresIn: 3 });
    for (const tab of tabs) await openSession(tab, server.url, token);

    const exp = expOf(token)!;
    for (const tab of tabs) {
      const at = await waitForSessionError(tab, 'TOKEN_EXPIRED', 8_000);
      console.log(`timing: TOKEN_EXPIRED reported ${at - exp} ms after exp`);
      expect(at - exp).toBeGreaterThanOrEqual(-250);
      expect(at - exp).toBeLessThanOrEqual(1_000);
    }
    await expect.poll(() => server.stats().sockets).toBe(0);
    await expectNoReconnect(tabs[0]!, server);
    for (const tab of tabs) {
      expect(LIVE_STATUSES).not.toContain(await connectionStatus(tab));
      expect((await pageEvents(tab)).sessionErrors.map((e) => e.type)).toEqual(['TOKEN_EXPIRED']);
    }
  });

  test('a token with a bad signature is refused with UNAUTHORIZED in every tab', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    const [starter, bystander] = await openTabs(2);
    await createClient(bystander!, { serverUrl: server.url });
    await createClient(starter!, { serverUrl: server.url });
    const forged = await mintToken({ sub: 'alice', secret: 'not-the-server-secret-not-the-server-secret' });
    const result = await startSession(starter!, forged);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'UNAUTHORIZED' });

    for (const tab of [starter!, bystander!]) await waitForSessionError(tab, 'UNAUTHORIZED');
    await expect.poll(() => server.stats().sockets).toBe(0);
    await expectNoReconnect(starter!, server);
    expect(server.stats().sessions).toBe(0);
  });

  test('a value that is not a JWT is refused with UNAUTHORIZED', async ({ server, openTab }) => {
    const page = await openTab();
    await createClient(page, { serverUrl: server.url });
    const result = await startSession(page, 'not-a-jwt');
    if (!result.ok) expect(result.error).toMatchObject({ code: 'UNAUTHORIZED' });

    await waitForSessionError(page, 'UNAUTHORIZED');
    expect(LIVE_STATUSES).not.toContain(await connectionStatus(page));
    await expectNoReconnect(page, server, 1_000);
    expect(server.stats().sessions).toBe(0);
  });

  test.describe('when the server serves schema version 2 only', () => {
    test.use({ serverOptions: { schema: { versions: [2] } } });

    test('a client declaring schema version 1 fails with SCHEMA_MISMATCH in every tab', async ({
      server,
      mintToken,
      openTabs,
    }) => {
      const tabs = await openTabs(2);
      for (const tab of tabs) await createClient(tab, { serverUrl: server.url, schema: { version: 1 } });
      const result = await startSession(tabs[0]!, await mintToken({ sub: 'alice' }));
      if (!result.ok) expect(result.error).toMatchObject({ code: 'SCHEMA_MISMATCH' });

      for (const tab of tabs) await waitForSessionError(tab, 'SCHEMA_MISMATCH');
      await expect.poll(() => server.stats().sockets).toBe(0);
      await expectNoReconnect(tabs[0]!, server);
    });
  });
});
