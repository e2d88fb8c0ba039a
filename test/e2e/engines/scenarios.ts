/**
 * The library's core behaviour, proven in Chromium, Firefox and WebKit (spec §13): the same scenario
 * code runs in each engine through the engine-neutral driver (driver.ts). Each engine's spec file
 * (chromium.spec.ts, …) chooses its engine and calls {@link defineScenarios}; test titles start with
 * the engine's name. Figures (refresh lead, handover, lone-tab reload) are printed as
 * `engines: [engine] …` lines.
 */
import type { PageEvents } from '../app/harness-types.ts';
import { expOf, type SessionServer } from '../fixtures.ts';
import type { EngineName, EngineTab } from './driver.ts';
import { expect, test } from './fixtures.ts';
import {
  call,
  connectionStatus,
  createClient,
  dataOf,
  getSession,
  hostKind,
  hostStats,
  openSession,
  pageEvents,
  POLL_INTERVAL_MS,
  reloadTab,
  startPublish,
  startSession,
  storedCursor,
  subscribe,
  waitFor,
  waitForChanges,
  waitForHost,
  waitForSessionError,
  waitForStatus,
} from './tab-helpers.ts';

/** refreshHandler runs 1 s before exp (spec §3); the window allows for timers on a busy 2-core machine. */
const REFRESH_WINDOW_MS = { latest: 500, earliest: 1_500 } as const;

/**
 * Whether a lone tab's reload keeps the SharedWorker, and so the socket (measured): Chromium 148+
 * honours the worker's `extendedLifetime`; Firefox 153 and WebKitGTK 2.50 end the worker with its
 * last document, so the new worker resumes the session from IndexedDB on a new socket.
 */
const LONE_RELOAD_KEEPS_SOCKET: Record<EngineName, boolean> = { chromium: true, firefox: false, webkit: false };

/** Prints a measured figure in a form the README table is made from. */
function report(engine: EngineName, line: string): void {
  console.log(`engines: [${engine}] ${line}`);
}

/** `server.publish` of `count` changes `{ n }`; returns their seqs. */
async function publishOnServer(server: SessionServer, topic: string, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let n = 1; n <= count; n++) seqs.push((await server.publish(topic, { n })).seq);
  return seqs;
}

/** 1, 2, …, n */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The session ids the tabs see (one id when they share one session). */
async function sessionIds(tabs: readonly EngineTab[]): Promise<Set<string | undefined>> {
  return new Set((await Promise.all(tabs.map(getSession))).map((s) => s?.id));
}

/**
 * Declares every scenario for `engine`. The spec file must also `test.use({ engineName: engine })`
 * at its top level (a worker option: one browser per file).
 */
export function defineScenarios(engine: EngineName): void {
  test.describe(`[${engine}] core scenarios`, () => {
    test(`[${engine}] keeps one socket open across five tabs`, async ({ server, mintToken, newTabs }) => {
      const tabs = await newTabs(5);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of tabs) await openSession(tab, server.url, token);

      expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
      expect(server.stats().socketsByUser['alice']).toBe(1);
      for (const tab of tabs) expect(await hostKind(tab), 'the SharedWorker host').toBe('shared-worker');
      expect((await sessionIds(tabs)).size, 'one session').toBe(1);
      expect(await getSession(tabs[4]!)).toMatchObject({ userId: 'alice', tabs: 5 });
    });

    test(`[${engine}] refreshes once per expiry about one second before exp, through another tab after the handler's tab closed`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      test.setTimeout(40_000);
      const tabs = await newTabs(2);
      const token = await mintToken({ sub: 'alice', expiresIn: 3 });
      for (const tab of tabs) await openSession(tab, server.url, token, { refresh: { sub: 'alice', expiresIn: 3 } });

      // The first expiry: the host picks one tab's handler.
      let calls: PageEvents['refreshCalls'][] = [];
      await expect
        .poll(
          async () => {
            calls = await Promise.all(tabs.map(async (tab) => (await pageEvents(tab)).refreshCalls));
            return calls.flat().some((c) => c.token);
          },
          { message: 'the first refresh', timeout: 8_000, intervals: [POLL_INTERVAL_MS] },
        )
        .toBe(true);
      const by = calls.findIndex((c) => c.some((entry) => entry.token));
      const handler = tabs[by]!;
      const other = tabs[1 - by]!;
      const firstCall = calls[by]![0]!;
      const leads = [expOf(token)! - firstCall.t];

      // The second expiry: the handler's tab is gone; the other tab's handler runs, once.
      await other.evaluate(() => void (window.refreshPlan!.expiresIn = 60));
      await handler.close();
      const secondCall = await waitFor(
        other,
        'the refresh after the failover',
        () => window.events.refreshCalls.find((c) => c.token),
        undefined,
        8_000,
      );
      leads.push(expOf(firstCall.token!)! - secondCall.t);
      report(
        engine,
        `refresh lead: ${leads.map((ms) => `${ms} ms`).join(', ')} before exp (after failover: ${leads[1]} ms)`,
      );
      for (const lead of leads) {
        expect(lead, 'ms before exp').toBeGreaterThanOrEqual(REFRESH_WINDOW_MS.latest);
        expect(lead, 'ms before exp').toBeLessThanOrEqual(REFRESH_WINDOW_MS.earliest);
      }
      expect(
        calls.flat().filter((c) => c.token),
        'one refresh for the first expiry',
      ).toHaveLength(1);

      // Past the old exp: the session runs on the new token, on the same socket, with no error.
      await waitFor(other, 'the old exp passed', (at) => Date.now() > at, expOf(firstCall.token!)! + 500);
      const events = await pageEvents(other);
      expect(events.refreshCalls, 'one refresh for the second expiry').toHaveLength(1);
      expect(events.sessionErrors).toEqual([]);
      expect(await connectionStatus(other)).toBe('OPEN');
      expect((await getSession(other))?.expiresAt).toBe(expOf(secondCall.token!));
      expect((await hostStats(other))?.refreshes, 'two expiries, two refreshes (single-flight)').toBe(2);
      expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    });

    test(`[${engine}] endSession and another user's startSession reach every tab`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      const tabs = await newTabs(3);
      const alice = await mintToken({ sub: 'alice' });
      for (const tab of tabs) await openSession(tab, server.url, alice);

      const ended = await call(tabs[2]!, 'endSession');
      expect(ended.ok ? undefined : ended.error).toBeUndefined();
      for (const tab of tabs) await waitForStatus(tab, 'UNINITIALIZED');
      for (const tab of tabs) expect(await getSession(tab)).toBeUndefined();
      await expect.poll(() => server.stats().sockets).toBe(0);

      for (const tab of tabs) await startSession(tab, alice, { waitForOpen: true });
      const aliceSession = (await getSession(tabs[0]!))!.id;
      const bob = await startSession(tabs[1]!, await mintToken({ sub: 'bob' }), { waitForOpen: true });
      expect(bob.error).toBeUndefined();
      for (const tab of tabs) {
        const session = await waitFor(tab, "bob's session", () =>
          window.client.getSession().then((s) => (s?.userId === 'bob' ? s : undefined)),
        );
        expect(session.id).not.toBe(aliceSession);
      }
      expect((await sessionIds(tabs)).size, 'one session, the new one').toBe(1);
      await expect.poll(() => server.stats().socketsByUser).toEqual({ bob: 1 });
    });

    test(`[${engine}] reports ROLES_MISMATCH, TOKEN_EXPIRED and UNAUTHORIZED in every tab with their name and code`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      const tabs = await newTabs(2);
      const user = await mintToken({ sub: 'alice', roles: ['user'] });
      for (const tab of tabs) await openSession(tab, server.url, user);

      // Other roles: the updating tab's call rejects, and the session ends in every tab.
      const admin = await mintToken({ sub: 'alice', roles: ['admin'] });
      const mismatch = await call(tabs[0]!, 'updateSessionToken', admin);
      expect(mismatch.ok ? undefined : mismatch.error).toMatchObject({
        name: 'SessionRolesMismatchError',
        code: 'ROLES_MISMATCH',
        instanceOf: expect.arrayContaining(['SessionRolesMismatchError', 'SessionError']),
      });
      for (const tab of tabs) await waitForSessionError(tab, 'ROLES_MISMATCH');
      await expect.poll(() => server.stats().sockets).toBe(0);

      // An expired token: every tab's update rejects with TokenExpiredError; at exp the session ends everywhere.
      const short = await mintToken({ sub: 'alice', expiresIn: 2 });
      for (const tab of tabs) await startSession(tab, short, { waitForOpen: true });
      const expired = await mintToken({ sub: 'alice', expiresIn: -10 });
      for (const tab of tabs) {
        const outcome = await call(tab, 'updateSessionToken', expired);
        expect(outcome.ok ? undefined : outcome.error).toMatchObject({
          name: 'TokenExpiredError',
          code: 'TOKEN_EXPIRED',
          instanceOf: expect.arrayContaining(['TokenExpiredError', 'SessionError']),
        });
      }
      for (const tab of tabs) await waitForSessionError(tab, 'TOKEN_EXPIRED', 6_000);

      // A forged token: refused with UNAUTHORIZED, told to every tab.
      const forged = await mintToken({ sub: 'alice', secret: 'not-the-server-secret-not-the-server-secret' });
      const refused = await startSession(tabs[1]!, forged);
      if (!refused.ok) expect(refused.error).toMatchObject({ name: 'UnauthorizedError', code: 'UNAUTHORIZED' });
      for (const tab of tabs) await waitForSessionError(tab, 'UNAUTHORIZED');
      for (const tab of tabs) {
        expect((await pageEvents(tab)).sessionErrors.map((e) => e.type)).toEqual([
          'ROLES_MISMATCH',
          'TOKEN_EXPIRED',
          'UNAUTHORIZED',
        ]);
        expect(['OPEN', 'CONNECTING']).not.toContain(await connectionStatus(tab));
      }
      expect(server.stats()).toMatchObject({ sockets: 0, sessions: 0 });
    });

    test(`[${engine}] delivers a topic gap-free in every tab across a network cut`, async ({
      server,
      serverProxy,
      mintToken,
      newTabs,
    }) => {
      const tabs = await newTabs(2);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of tabs) {
        await openSession(tab, serverProxy.url, token);
        await subscribe(tab, 'feed', 'feed');
      }
      await publishOnServer(server, 'feed', 3);
      for (const tab of tabs) await waitForChanges(tab, 'feed', 3);

      serverProxy.cut();
      await expect.poll(() => server.stats().sockets, 'the server saw the socket go').toBe(0);
      for (const tab of tabs) {
        await waitFor(tab, 'the tab saw the socket go', () => window.client.connectionStatus !== 'OPEN');
      }
      await publishOnServer(server, 'feed', 4);
      serverProxy.restore();

      for (const tab of tabs) expect(await waitForChanges(tab, 'feed', 7)).toEqual(upTo(7));
      expect(server.stats().sockets).toBe(1);
    });

    test(`[${engine}] sends only the missed changes after a reload`, async ({ server, mintToken, newTabs }) => {
      const [tab] = await newTabs(1);
      const token = await mintToken({ sub: 'alice' });
      await openSession(tab!, server.url, token);
      await subscribe(tab!, 'feed', 'feed');
      await publishOnServer(server, 'feed', 3);
      await waitForChanges(tab!, 'feed', 3);
      await expect.poll(() => storedCursor(tab!, 'alice', 'feed'), 'the cursor is in IndexedDB').toBe(3);
      const sentBefore = server.stats().changesSent;

      await reloadTab(tab!);
      await publishOnServer(server, 'feed', 2);
      await openSession(tab!, server.url, token);
      await subscribe(tab!, 'feed', 'feed');

      expect(await waitForChanges(tab!, 'feed', 5)).toEqual(upTo(5));
      expect(server.stats().changesSent - sentBefore, 'the server sent the 2 missed changes only').toBe(2);
    });

    test(`[${engine}] stores a publish made offline exactly once after the tab reloads`, async ({
      server,
      serverProxy,
      mintToken,
      newTabs,
    }) => {
      const [publisher, watcher] = await newTabs(2);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of [publisher!, watcher!]) {
        await openSession(tab, serverProxy.url, token);
        await subscribe(tab, 'chat', 'chat');
      }
      serverProxy.cut();
      await expect.poll(() => server.stats().sockets).toBe(0);
      await startPublish(publisher!, 'chat', { text: 'written offline' });
      await waitForHost(publisher!, 'the publish waits in the outbox', (s) => s.outbox === 1);

      await reloadTab(publisher!);
      await createClient(publisher!, { serverUrl: serverProxy.url });
      expect((await startSession(publisher!, token)).error).toBeUndefined();
      await subscribe(publisher!, 'chat', 'chat');
      serverProxy.restore();

      await waitForChanges(watcher!, 'chat', 1);
      await waitForHost(watcher!, 'the outbox drained', (s) => s.outbox === 0);
      const marker = await server.publish('chat', { marker: true });
      for (const tab of [watcher!, publisher!]) {
        expect(await waitForChanges(tab, 'chat', marker.seq)).toEqual([1, 2]);
        expect((await dataOf(tab, 'chat'))[0]).toEqual({ text: 'written offline' });
      }
      expect(server.stats().changesStored, 'stored once (and the marker)').toBe(2);
    });

    test(`[${engine}] without a SharedWorker, a leader tab holds the only socket and hands over within 1 s when it closes`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      const [leader, ...followers] = await newTabs(3);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of [leader!, ...followers]) await openSession(tab, server.url, token, { host: 'leader' });
      for (const tab of [leader!, ...followers]) expect(await hostKind(tab)).toBe('leader');
      expect(await hostStats(followers[0]!)).toMatchObject({ kind: 'leader', tabs: 3, socketsOpened: 1 });
      expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
      const sessionId = (await getSession(leader!))!.id;
      for (const tab of followers) await subscribe(tab, 'feed', 'feed');
      await publishOnServer(server, 'feed', 2);
      for (const tab of followers) await waitForChanges(tab, 'feed', 2);

      const closedAt = Date.now();
      await leader!.close();
      for (const tab of followers) {
        await waitForHost(
          tab,
          'the new leader, with the two tabs left',
          (s) => s.status === 'OPEN' && s.tabs === 2,
          5_000,
        );
      }
      const handoverMs = Date.now() - closedAt;
      report(engine, `leader handover: both tabs OPEN on the new leader ${handoverMs} ms after the leader tab closed`);
      expect(handoverMs, 'handover within 1 s').toBeLessThanOrEqual(1_000);

      await publishOnServer(server, 'feed', 1);
      for (const tab of followers) {
        expect(await waitForChanges(tab, 'feed', 3), 'every change once, in order').toEqual(upTo(3));
        expect((await getSession(tab))?.id).toBe(sessionId);
      }
      await expect.poll(() => server.stats().sockets).toBe(1);
    });

    test(`[${engine}] keeps the session and its socket when the tab that started the SharedWorker closes`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      const [starter, ...others] = await newTabs(3);
      const token = await mintToken({ sub: 'alice' });
      for (const tab of [starter!, ...others]) await openSession(tab, server.url, token);
      for (const tab of others) await subscribe(tab, 'feed', 'feed');
      const sessionId = (await getSession(starter!))!.id;

      await starter!.close();
      for (const tab of others) {
        await waitFor(tab, 'the closed tab is dropped', () => window.client.getSession().then((s) => s?.tabs === 2));
      }
      await publishOnServer(server, 'feed', 2);
      for (const tab of others) {
        expect(await waitForChanges(tab, 'feed', 2)).toEqual(upTo(2));
        expect(await connectionStatus(tab)).toBe('OPEN');
        expect((await getSession(tab))?.id).toBe(sessionId);
        expect(await hostKind(tab)).toBe('shared-worker');
      }
      expect(server.stats(), 'the same worker and socket: no reconnect').toMatchObject({
        sockets: 1,
        socketsOpened: 1,
      });
    });

    const keepsSocket = LONE_RELOAD_KEEPS_SOCKET[engine];
    test(`[${engine}] ${keepsSocket ? "keeps the socket across a lone tab's reload" : "resumes the session on a new socket after a lone tab's reload"}`, async ({
      server,
      mintToken,
      newTabs,
    }) => {
      const [tab] = await newTabs(1);
      const token = await mintToken({ sub: 'alice' });
      await openSession(tab!, server.url, token);
      const before = await getSession(tab!);

      await reloadTab(tab!);
      await openSession(tab!, server.url, token);
      const kept = server.stats().socketsOpened === 1;
      report(
        engine,
        `lone-tab reload: the socket ${kept ? 'survives (same worker, no reconnect)' : 'does not survive (the worker restarted and reconnected)'}`,
      );
      expect(kept, keepsSocket ? 'extendedLifetime keeps the worker' : 'the worker ends with its last tab').toBe(
        keepsSocket,
      );
      expect((await getSession(tab!))?.id, 'the same session, resumed').toBe(before?.id);
      await expect.poll(() => server.stats().sockets, 'one socket (the old one closed)').toBe(1);
    });
  });
}
