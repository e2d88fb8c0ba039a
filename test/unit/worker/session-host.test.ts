import { describe, expect, it } from 'vitest';
import { INITIAL_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS } from '../../../src/worker/backoff.js';
import { MIN_REFRESH_CALL_TIMEOUT_MS, REFRESH_LEAD_MS } from '../../../src/worker/refresh-schedule.js';
import { CONNECT_TIMEOUT_MS, STABLE_CONNECTION_MS } from '../../../src/worker/server-connection.js';
import { HOST_API_VERSION } from '../../../src/protocol/version.js';
import { ALIVE_LOCK_WAIT_MS } from '../../../src/worker/session-host.js';
import { sessionErrors, startHost, statuses, tokenFor } from '../support/host-harness.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** Dial gaps of the fake server's sockets, ms. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

describe('token refresh (spec §3, §4)', () => {
  it('runs the refresh handler one second before exp, corrected by the clock offset learned at connect', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.skewMs = 30 * SECOND; // the server's clock runs 30 s ahead of the host's
    const tab = await attachTab();
    const t0 = clock.now();
    // `exp` is on the server's clock: 60 s after the server's now.
    const token = tokenFor(t0 + server.skewMs, MINUTE);
    tab.handler = async () => tokenFor(clock.now() + server.skewMs, MINUTE);
    await start(tab, token, {});
    await clock.advance(2 * MINUTE - 2 * SECOND);

    expect(tab.refreshCalls[0]).toBe(t0 + MINUTE - REFRESH_LEAD_MS);
    expect(tab.refreshCalls[1]).toBe(t0 + 2 * MINUTE - 2 * REFRESH_LEAD_MS);
    expect(server.tokenUpdates, 'each new token went out on the live socket').toHaveLength(2);
    expect(server.sockets, 'no reconnect').toHaveLength(1);
    expect(statuses(tab), 'background refreshes never change the status').toEqual(['CONNECTING', 'OPEN']);
  });

  it('refreshes every interval ms when an interval is given', async () => {
    const { clock, attachTab, start } = await startHost();
    const tab = await attachTab();
    const t0 = clock.now();
    tab.handler = async () => tokenFor(clock.now(), 60 * MINUTE);
    await start(tab, tokenFor(t0, 60 * MINUTE), { interval: 10 * SECOND });
    await clock.advance(35 * SECOND);
    expect(tab.refreshCalls).toEqual([t0 + 10 * SECOND, t0 + 20 * SECOND, t0 + 30 * SECOND]);
  });

  it('calls one handler per expiry across three tabs, preferring a visible tab registered last', async () => {
    const { clock, server, attachTab, start, host } = await startHost();
    const tabs = [await attachTab(), await attachTab(), await attachTab()];
    const t0 = clock.now();
    for (const tab of tabs) {
      tab.handler = async () => tokenFor(clock.now(), MINUTE);
      await start(tab, tokenFor(t0, MINUTE), {});
    }
    await host.setVisibility(tabs[2]!.tabId, false);
    await clock.advance(3 * MINUTE);

    const calls = tabs.map((tab) => tab.refreshCalls.length);
    expect(calls, 'the hidden last tab is passed over; the visible one registered last answers').toEqual([0, 3, 0]);
    expect(server.tokenUpdates).toHaveLength(3);
  });

  it('fails over to the next tab when the chosen tab throws, in the same expiry', async () => {
    const { clock, server, attachTab, start } = await startHost();
    const [first, chosen] = [await attachTab(), await attachTab()];
    const t0 = clock.now();
    first.handler = async () => tokenFor(clock.now(), MINUTE);
    chosen.handler = async () => {
      throw new Error('token endpoint said 500');
    };
    await start(first, tokenFor(t0, MINUTE), {});
    await start(chosen, tokenFor(t0, MINUTE), {});
    await clock.advance(MINUTE - REFRESH_LEAD_MS);

    expect(chosen.refreshCalls).toEqual([t0 + MINUTE - REFRESH_LEAD_MS]);
    expect(first.refreshCalls).toEqual([t0 + MINUTE - REFRESH_LEAD_MS]);
    expect(server.tokenUpdates).toHaveLength(1);
    await clock.advance(MINUTE);
    expect(sessionErrors(first)).toEqual([]);
  });

  it('fails over when the chosen tab does not answer (frozen), in time to refresh before exp', async () => {
    const { clock, server, attachTab, start } = await startHost();
    const [first, frozen] = [await attachTab(), await attachTab()];
    const t0 = clock.now();
    first.handler = async () => tokenFor(clock.now(), MINUTE);
    frozen.handler = () => new Promise<never>(() => undefined);
    await start(first, tokenFor(t0, MINUTE), {});
    await start(frozen, tokenFor(t0, MINUTE), {});
    await clock.advance(MINUTE);

    const refreshAt = t0 + MINUTE - REFRESH_LEAD_MS;
    expect(frozen.refreshCalls).toEqual([refreshAt]);
    // Half the time left before exp, so the next tab still has the other half.
    expect(first.refreshCalls).toEqual([refreshAt + REFRESH_LEAD_MS / 2]);
    expect(first.refreshCalls[0]! - refreshAt).toBeGreaterThanOrEqual(MIN_REFRESH_CALL_TIMEOUT_MS);
    expect(server.tokenUpdates).toHaveLength(1);
    expect(sessionErrors(first)).toEqual([]);
  });

  it('fails over at once when the chosen tab closes while its handler runs', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    const [first, closing] = [await attachTab(), await attachTab()];
    const t0 = clock.now();
    first.handler = async () => tokenFor(clock.now(), MINUTE);
    closing.handler = () => new Promise<never>(() => undefined);
    await start(first, tokenFor(t0, MINUTE), {});
    await start(closing, tokenFor(t0, MINUTE), {});
    await clock.advance(MINUTE - REFRESH_LEAD_MS);
    expect(closing.refreshCalls).toHaveLength(1);
    await host.detach(closing.tabId);
    await clock.flush();

    expect(first.refreshCalls).toEqual([t0 + MINUTE - REFRESH_LEAD_MS]);
    expect(server.tokenUpdates).toHaveLength(1);
  });

  it('ends the session with TOKEN_EXPIRED at exp when the handler returns no token, without reconnecting', async () => {
    const { clock, server, attachTab, start } = await startHost();
    const [a, b] = [await attachTab(), await attachTab()];
    const t0 = clock.now();
    a.handler = async () => undefined;
    await start(a, tokenFor(t0, MINUTE), {});
    await clock.advance(MINUTE - 1);
    expect(sessionErrors(a)).toEqual([]);
    await clock.advance(1);

    expect(a.refreshCalls).toEqual([t0 + MINUTE - REFRESH_LEAD_MS]);
    expect(sessionErrors(a)).toEqual(['TOKEN_EXPIRED']);
    expect(sessionErrors(b), 'every tab hears it').toEqual(['TOKEN_EXPIRED']);
    expect(statuses(b).at(-1)).toBe('CLOSED');
    await clock.advance(10 * MINUTE);
    expect(server.sockets, 'no reconnect loop after a session error').toHaveLength(1);
    expect(a.refreshCalls, 'no refresh after the session error').toHaveLength(1);
  });

  it('retries a throwing handler with backoff until exp, then ends with TOKEN_EXPIRED', async () => {
    const { clock, attachTab, start } = await startHost();
    const tab = await attachTab();
    const t0 = clock.now();
    tab.handler = async () => {
      throw new Error('offline');
    };
    // With an interval the first refresh runs long before exp, leaving room for several retries.
    await start(tab, tokenFor(t0, 20 * SECOND), { interval: 10 * SECOND });
    await clock.advance(30 * SECOND);

    const at = tab.refreshCalls.map((t) => t - t0);
    expect(at).toEqual([10_000, 10_500, 11_500, 13_500, 17_500]);
    expect(sessionErrors(tab)).toEqual(['TOKEN_EXPIRED']);
  });

  it('refuses an expired start without a handler with UNAUTHORIZED, status CLOSED, and keeps no handler', async () => {
    const { clock, attachTab, start, server } = await startHost();
    const tab = await attachTab();
    const expired = tokenFor(clock.now() - MINUTE, SECOND);
    await expect(start(tab, expired, {})).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(sessionErrors(tab)).toEqual(['UNAUTHORIZED']);
    expect(statuses(tab).at(-1)).toBe('CLOSED');
    expect(tab.refreshCalls, 'the refused start asked its handler once').toHaveLength(1);

    // A later session must not call the refused start's handler.
    const other = await attachTab();
    other.handler = async () => tokenFor(clock.now(), MINUTE);
    await start(other, tokenFor(clock.now(), MINUTE), {});
    await clock.advance(2 * MINUTE);
    expect(tab.refreshCalls).toHaveLength(1);
    expect(other.refreshCalls.length).toBeGreaterThan(0);
    expect(server.sockets).toHaveLength(1);
  });
});

describe('reconnects (connection supervisor)', () => {
  it('waits a jittered, doubling delay between failed dials, capped at MAX_RECONNECT_DELAY_MS', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.onHello = () => ({ close: 1011, reason: 'internal' });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    await clock.advance(MINUTE);

    const waits = gaps(server.sockets.map((s) => s.dialedAt));
    waits.forEach((wait, attempt) => {
      const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, INITIAL_RECONNECT_DELAY_MS * 2 ** attempt);
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
    });
    expect(Math.max(...waits)).toBeGreaterThanOrEqual(MAX_RECONNECT_DELAY_MS / 2);
  });

  it('does not hot-loop against a server that welcomes and drops at once', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.onHello = () => ({ welcome: true, thenClose: 1006 });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    for (let i = 0; i < 60; i++) await clock.advance(SECOND);

    // Backing off from 125–250 ms to 2.5–5 s: a dozen or so dials a minute, not 240–480.
    expect(server.sockets.length).toBeLessThan(25);
    expect(gaps(server.sockets.map((s) => s.dialedAt)).at(-1)).toBeGreaterThanOrEqual(MAX_RECONNECT_DELAY_MS / 2);
  });

  it('starts the backoff over once a connection stayed up for STABLE_CONNECTION_MS', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.onHello = () => ({ close: 1011 });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    await clock.advance(30 * SECOND); // deep into the backoff
    server.onHello = () => ({ welcome: true });
    await clock.advance(MAX_RECONNECT_DELAY_MS);
    const stable = server.open[0]!;
    await clock.advance(STABLE_CONNECTION_MS);
    const before = server.sockets.length;
    stable.serverClose(1006);
    await clock.advance(INITIAL_RECONNECT_DELAY_MS);
    expect(server.sockets.length, 'the first retry comes within the first backoff step').toBe(before + 1);
  });

  it('abandons a dial that gets no welcome within CONNECT_TIMEOUT_MS and tries again', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.onHello = () => ({ silent: true });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    await clock.advance(CONNECT_TIMEOUT_MS - 1);
    expect(server.sockets).toHaveLength(1);
    server.onHello = () => ({ welcome: true });
    await clock.advance(1 + INITIAL_RECONNECT_DELAY_MS);
    expect(server.sockets).toHaveLength(2);
    expect(statuses(tab).at(-1)).toBe('OPEN');
  });

  it('dials at once, skipping the backoff, when a tab becomes visible', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    server.onHello = () => ({ close: 1011 });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    await clock.advance(20 * SECOND);
    server.onHello = () => ({ welcome: true });
    const dials = server.sockets.length;
    await host.setVisibility(tab.tabId, true);
    await clock.flush();
    expect(server.sockets).toHaveLength(dials + 1);
    expect(statuses(tab).at(-1)).toBe('OPEN');
  });

  it('closes the socket after the last tab left and its grace, and reopens it when a tab attaches', async () => {
    const { clock, server, host, attachTab, start } = await startHost({ lastTabGraceMs: 3 * SECOND });
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), 60 * MINUTE));
    await clock.flush();
    await host.detach(tab.tabId);
    await clock.advance(3 * SECOND - 1);
    expect(server.open).toHaveLength(1);
    await clock.advance(1);
    expect(server.open).toHaveLength(0);
    const next = await attachTab();
    await clock.flush();
    expect(server.open).toHaveLength(1);
    expect((await host.getSession())?.tabs).toBe(1);
    expect(statuses(next).at(-1)).toBe('OPEN');
  });
});

describe('inspect (devtools, status panels)', () => {
  it('reports tabs, closes with codes, refresh history, topics, outbox and log lines, and never a token', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    const [a, b] = [await attachTab(), await attachTab(false)];
    const t0 = clock.now();
    const token = tokenFor(t0, MINUTE);
    let refreshed = '';
    a.handler = async () => (refreshed = tokenFor(clock.now(), MINUTE));
    await start(a, token, {});
    await host.subscribe(b.tabId, { subId: 's1', topic: 'room' });
    await clock.advance(MINUTE - REFRESH_LEAD_MS);
    server.open[0]!.serverClose(1006, 'network');
    await clock.advance(MAX_RECONNECT_DELAY_MS);

    const inspection = await host.inspect();
    expect(inspection.phase).toBe('live');
    expect(inspection.tabList.map((t) => [t.tabId, t.visible, t.refreshHandlers])).toEqual([
      [a.tabId, true, 1],
      [b.tabId, false, 0],
    ]);
    expect(inspection.closes).toEqual([{ at: expect.any(Number), code: 1006, reason: 'network' }]);
    expect(inspection.refreshHistory).toEqual([
      { at: t0 + MINUTE - REFRESH_LEAD_MS, outcome: 'refreshed', tabId: a.tabId, durationMs: 0, failovers: 0 },
    ]);
    expect(inspection.topicList).toEqual([{ topic: 'room', cursor: 0, cached: 0, subscribers: 1, live: true }]);
    expect(inspection.nextRefreshAt).toBe(t0 + 2 * MINUTE - 2 * REFRESH_LEAD_MS);
    expect(inspection.log.map((l) => l.line)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^refreshed by tab/), 'closed 1006 "network"']),
    );
    const text = JSON.stringify(inspection);
    expect(text).not.toContain(token);
    expect(text).not.toContain(refreshed);
  });
});

describe('fencing (a frozen leader that wakes after another took over)', () => {
  it('stops its socket, refreshes and reconnects for good once another host took the socket-owner lock', async () => {
    const { clock, server, attachTab, start, loseOwnership } = await startHost();
    const tab = await attachTab();
    tab.handler = async () => tokenFor(clock.now(), MINUTE);
    await start(tab, tokenFor(clock.now(), MINUTE), {});
    await clock.flush();
    expect(server.open).toHaveLength(1);

    loseOwnership();
    await clock.flush();
    expect(server.open, 'the socket is closed without another frame').toHaveLength(0);
    const sent = server.sockets[0]!.sent.map((m) => m.type);
    expect(sent).toEqual(['hello']);
    expect(tab.events.some((e) => e.type === 'superseded')).toBe(true);

    await clock.advance(10 * MINUTE);
    expect(server.sockets, 'no reconnect').toHaveLength(1);
    expect(tab.refreshCalls, 'no refresh').toEqual([]);
    expect(sessionErrors(tab), 'not a session error: the session goes on elsewhere').toEqual([]);
  });
});

describe('subscribe and unsubscribe races', () => {
  it('an unsubscribe that overtakes a pending subscribe leaves no tab subscription behind', async () => {
    const { clock, host, attachTab, start } = await startHost();
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), MINUTE));
    const subscribing = host.subscribe(tab.tabId, { subId: 's1', topic: 'room' });
    const unsubscribing = host.unsubscribe(tab.tabId, 's1'); // StrictMode: mount, unmount at once
    await Promise.all([subscribing, unsubscribing]);
    await clock.flush();
    const { tabSubscriptions, topicList } = await host.inspect();
    expect(tabSubscriptions).toBe(0);
    expect(topicList).toEqual([]);
  });
});

describe('identity from the server (custom roles claims, opaque tokens)', () => {
  it('takes roles from the welcome when the server reads another claim, and compares refreshes by it', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    // The server reads roles from `scope` (a space-separated string, as OAuth scopes are).
    server.verify = (token) => {
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
      return {
        userId: claims.sub,
        roles: String(claims.scope).split(' ').sort(),
        expiresAt: claims.exp * 1000,
        rolesClaim: 'scope',
      };
    };
    const tab = await attachTab();
    tab.handler = async () => tokenFor(clock.now(), MINUTE, { scope: 'read write' });
    await start(tab, tokenFor(clock.now(), MINUTE, { scope: 'write read' }), {});
    await clock.flush();
    expect((await host.getSession())?.roles).toEqual(['read', 'write']);
    await clock.advance(MINUTE);
    expect(sessionErrors(tab), 'same scope, other order: the same roles').toEqual([]);
    expect(server.tokenUpdates).toHaveLength(1);

    tab.handler = async () => tokenFor(clock.now(), MINUTE, { scope: 'admin' });
    await clock.advance(MINUTE);
    expect(sessionErrors(tab)).toEqual(['ROLES_MISMATCH']);
  });

  it('starts a session with an opaque token once the server welcomed it, with the user, roles and expiry it says', async () => {
    const { clock, server, attachTab, start } = await startHost();
    server.verify = (token) =>
      token.startsWith('db-session-')
        ? { userId: 'bob', roles: ['member'], expiresAt: clock.now() + MINUTE, rolesClaim: null }
        : undefined;
    const tab = await attachTab();
    tab.handler = async () => `db-session-${clock.now()}`;
    const info = await start(tab, 'db-session-1', {});
    expect(info).toMatchObject({ userId: 'bob', roles: ['member'], expiresAt: clock.now() + MINUTE });
    const t0 = clock.now();
    await clock.advance(MINUTE);
    expect(tab.refreshCalls, 'refreshed 1 s before the expiry the server told').toEqual([
      t0 + MINUTE - REFRESH_LEAD_MS,
    ]);
    expect(server.tokenUpdates).toEqual([`db-session-${t0 + MINUTE - REFRESH_LEAD_MS}`]);
    expect(sessionErrors(tab)).toEqual([]);

    const second = await attachTab();
    const joined = await start(second, 'db-session-1'); // another tab with the same stored token
    expect(joined.id).toBe(info.id);
    expect(server.sockets).toHaveLength(1);
  });

  it('refuses an opaque token the server refuses with UNAUTHORIZED, leaving no session', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    server.verify = () => undefined;
    const tab = await attachTab();
    await expect(start(tab, 'not-a-jwt')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(sessionErrors(tab)).toEqual(['UNAUTHORIZED']);
    expect(await host.getSession()).toBeUndefined();
    expect(statuses(tab).at(-1)).toBe('CLOSED');
    await clock.advance(MINUTE);
    expect(server.sockets, 'no reconnect').toHaveLength(1);
  });

  it('refuses a value that is not a JWT at once when the server is known to verify JWTs', async () => {
    const { clock, server, host, attachTab, start } = await startHost();
    const tab = await attachTab();
    await start(tab, tokenFor(clock.now(), MINUTE));
    await clock.flush();
    await expect(host.updateSessionToken(tab.tabId, 'not-a-jwt')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(server.tokenUpdates, 'nothing sent').toEqual([]);
  });
});

describe('session events to tabs', () => {
  const sessionEvents = (tab: { events: { type: string }[] }) =>
    tab.events.flatMap((e) => (e.type === 'session' ? [(e as { session?: { tabs: number } }).session] : []));

  it('tells tabs of the tab count while a session runs, and never says "no session" for a tab coming or going', async () => {
    // A tab that brings its session into a new leader host attaches before it replays the session:
    // a "no session" event then would make it drop the session it is about to replay.
    const { host, clock, attachTab, start } = await startHost();
    const first = await attachTab();
    const second = await attachTab();
    await host.detach(second.tabId);
    expect(sessionEvents(first), 'no session: nothing to tell').toEqual([]);

    await start(first, tokenFor(clock.now(), MINUTE));
    await clock.flush();
    const third = await attachTab();
    expect(sessionEvents(first).at(-1)).toMatchObject({ tabs: 2 });
    expect(sessionEvents(third).at(-1)).toMatchObject({ tabs: 2 });
    await host.detach(third.tabId);
    expect(sessionEvents(first).at(-1)).toMatchObject({ tabs: 1 });

    await host.endSession(first.tabId);
    expect(sessionEvents(first).at(-1), 'an ended session is announced').toBeUndefined();
    expect(sessionEvents(first).length).toBeGreaterThan(3);
  });
});

describe('host liveness for tabs', () => {
  const registration = (tabId: string) => ({
    tabId,
    lockName: `lock-${tabId}`,
    protocol: HOST_API_VERSION,
    buildId: 'unit-test',
    visible: true,
  });
  const callbacks = { refreshToken: async () => undefined };
  const events = () => ({ postMessage: () => undefined, close: () => undefined });

  it('tells attaching tabs the Web Lock it holds for its life, once it is held', async () => {
    const { host, clock } = await startHost();
    const before = await host.attach(registration('a'), callbacks, events());
    expect(before.aliveLock, 'no lock announced: tabs rely on health pings').toBeUndefined();

    let granted!: (held: boolean) => void;
    host.holdsAliveLock('shared-session:host-alive:h1', new Promise<boolean>((resolve) => (granted = resolve)));
    let answered = false;
    const attaching = host.attach(registration('b'), callbacks, events()).then((hello) => {
      answered = true;
      return hello;
    });
    await clock.flush();
    expect(answered, 'attach waits until the lock is held').toBe(false);
    granted(true);
    expect((await attaching).aliveLock).toBe('shared-session:host-alive:h1');
  });

  it('names no lock it could not hold, and waits at most ALIVE_LOCK_WAIT_MS for one', async () => {
    const refused = await startHost();
    refused.host.holdsAliveLock('shared-session:host-alive:h2', Promise.resolve(false));
    expect((await refused.host.attach(registration('a'), callbacks, events())).aliveLock).toBeUndefined();

    const slow = await startHost();
    slow.host.holdsAliveLock('shared-session:host-alive:h3', new Promise<boolean>(() => undefined));
    const attaching = slow.host.attach(registration('b'), callbacks, events());
    await slow.clock.advance(ALIVE_LOCK_WAIT_MS);
    expect((await attaching).aliveLock).toBeUndefined();
  });
});
