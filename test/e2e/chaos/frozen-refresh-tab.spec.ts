/**
 * Chaos 3 (issue 10): the tab whose refreshHandler the host calls freezes (`freezeTab`: CDP
 * `Page.setWebLifecycleState` plus a debugger pause, so no task runs in it) over several token
 * lifetimes while changes stream. Every refresh still lands before `exp` through the other tabs;
 * once resumed, the frozen tab catches up on what it missed, in order, and the session never
 * left its one socket.
 */
import type { Page } from '@playwright/test';
import type { RefreshRecord } from '../../../src/protocol/host-api.ts';
import type * as TabRegistry from '../../../src/worker/tab-registry.ts';
import {
  assertSameOrderedChanges,
  expect,
  expOf,
  freezeTab,
  getSession,
  hostStats,
  openSession,
  pageEvents,
  resumeTab,
  test,
  type SessionServer,
} from '../fixtures.ts';
import { watchSockets } from '../host-helpers.ts';
import { received, subscribe, waitForChanges } from '../topic-helpers.ts';
import { loadBuilt } from './built.ts';
import { describeMs, printFigures } from './figures.ts';
import { refreshRounds, sampleInspections } from './refresh-samples.ts';

const TOPIC = 'chaos:frozen';
/** The login token's life: the first refresh comes 1 s before its exp. */
const TOKEN_SECONDS = 3;
/**
 * The life of each refreshed token: rounds come ~5 s apart, so the freeze ends well before the
 * next round would call the frozen tab once more than the scenario means to.
 */
const REFRESHED_TOKEN_SECONDS = 6;
/** After this many missed deadlines in a row the host forgets a tab (it froze, or died unseen). */
const { TAB_MAX_MISSED_DEADLINES } = await loadBuilt<typeof TabRegistry>('worker/tab-registry.js');

/** How many times each page's refreshHandler ran so far. */
function refreshCallCounts(tabs: readonly Page[]): Promise<number[]> {
  return Promise.all(tabs.map((tab) => tab.evaluate(() => window.events.refreshCalls.length)));
}

/**
 * Three tabs on a `TOKEN_SECONDS` token (refreshed ones live `REFRESHED_TOKEN_SECONDS`); the tab
 * that answered the first refresh freezes until the others answered `rounds` more; the server
 * publishes every 100 ms throughout. Prints the figures
 * and asserts the right behaviour.
 */
async function freezeThroughRefreshes(server: SessionServer, tabs: Page[], login: string, rounds: number) {
  for (const tab of tabs) {
    await openSession(tab, server.url, login, { refresh: { sub: 'alice', expiresIn: REFRESHED_TOKEN_SECONDS } });
    await subscribe(tab, 'feed', TOPIC);
  }
  const sessionId = (await getSession(tabs[0]!))?.id;
  let published = 0;
  let streaming = true;
  const stream = (async () => {
    while (streaming) {
      await server.publish(TOPIC, { n: ++published });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const sockets = watchSockets(server, 10);
    // The first refresh shows which tab the host prefers: that one freezes.
    await expect.poll(async () => (await refreshCallCounts(tabs)).some((n) => n > 0), { timeout: 10_000 }).toBe(true);
    const owner = tabs[(await refreshCallCounts(tabs)).findIndex((n) => n > 0)]!;
    const others = tabs.filter((tab) => tab !== owner);
    const ownerTabId = (await owner.evaluate(() => window.client.inspect!())).refreshHistory[0]?.tabId;
    const inspections = sampleInspections(others, 200);

    await freezeTab(owner);
    const frozenAt = Date.now();
    // The tab runs its queued tasks as soon as the debugger resumes it, before resumeTab returns.
    let resumingAt = Number.POSITIVE_INFINITY;
    /** The rounds the host finished while the tab was frozen, by its own account (the last poll's). */
    let roundsWhileFrozen: RefreshRecord[] = [];
    try {
      const answeredByOthers = async () => {
        const { refreshHistory } = await others[0]!.evaluate(() => window.client.inspect!());
        roundsWhileFrozen = refreshHistory.filter((r) => r.at > frozenAt);
        return roundsWhileFrozen.length;
      };
      await expect
        .poll(answeredByOthers, { timeout: (rounds + 2) * REFRESHED_TOKEN_SECONDS * 1_000, intervals: [100] })
        .toBeGreaterThanOrEqual(rounds);
    } finally {
      resumingAt = Date.now();
      await resumeTab(owner);
    }
    const publishedBeforeResume = published;
    // The frozen tab catches up on what it missed (bounded: a tab the host forgot never does).
    const caughtUp = await waitForChanges(owner, 'feed', publishedBeforeResume, 10_000).then(
      (log) => log.changes[publishedBeforeResume - 1]!.receivedAt - resumingAt,
      () => undefined,
    );
    streaming = false;
    await stream;
    const logs = await Promise.all(
      tabs.map((tab) =>
        tab === owner && caughtUp === undefined ? received(tab, 'feed') : waitForChanges(tab, 'feed', published),
      ),
    );
    const samples = await inspections.stop();
    const socketReport = sockets.stop();
    const events = await Promise.all(tabs.map(pageEvents));
    const ownerEvents = events[tabs.indexOf(owner)]!;
    const ownerLog = logs[tabs.indexOf(owner)]!;
    const { leads } = refreshRounds(samples);
    // The host's account read before resumeTab, not the 200 ms samples (which may miss the last round).
    const whileFrozen = roundsWhileFrozen;
    const leadsWhileFrozen = leads.filter((l) => l.at > frozenAt && l.at < resumingAt).map((l) => l.ms);
    const host = await others[0]!.evaluate(() => window.client.inspect!());
    printFigures(`frozen refresh-handler tab, ${rounds} rounds`, {
      frozen: `${((resumingAt - frozenAt) / 1000).toFixed(1)} s, ${whileFrozen.length} refresh rounds meanwhile (${whileFrozen.reduce((n, r) => n + r.failovers, 0)} failovers off the frozen tab)`,
      'refresh lead before exp while frozen': describeMs(leadsWhileFrozen),
      'frozen tab after resume':
        caughtUp === undefined
          ? `did NOT catch up: ${ownerLog.changes.length} of ${published} changes, status ${ownerEvents.statuses.at(-1)?.status}; the host lists ${host.tabList.length} tabs`
          : `caught up in order, the last missed change ${caughtUp} ms after resumeTab`,
      'its handler': `ran ${ownerEvents.refreshCalls.filter((c) => c.t >= resumingAt).length} time(s) late, after resumeTab (calls queued while frozen)`,
      sockets: `max ${socketReport.max} at the server, never none: ${socketReport.firstZeroAt === undefined}; ${server.stats().socketsOpened} opened`,
    });

    // The refreshes during the freeze came from the other tabs, each before exp.
    expect(whileFrozen.length).toBeGreaterThanOrEqual(rounds);
    expect(whileFrozen.filter((r) => r.outcome !== 'refreshed' || r.tabId === ownerTabId)).toEqual([]);
    expect(leadsWhileFrozen.length, 'the rounds while frozen were measured').toBeGreaterThan(0);
    expect(leadsWhileFrozen.filter((lead) => lead <= 0)).toEqual([]);
    expect(events.flatMap((e) => e.sessionErrors)).toEqual([]);
    // The frozen tab missed changes, then caught up: every tab has 1…published, once each, in order.
    expect(ownerLog.changes.filter((c) => c.receivedAt >= resumingAt).length, 'changes it missed').toBeGreaterThan(0);
    expect(caughtUp, 'the frozen tab caught up after resumeTab').toBeDefined();
    assertSameOrderedChanges(
      logs.map((log) => log.changes),
      published,
    );
    // One socket, never dropped, one session, all three tabs attached.
    expect(socketReport.max).toBeLessThanOrEqual(1);
    expect(socketReport.firstZeroAt).toBeUndefined();
    expect(server.stats().socketsOpened).toBe(1);
    expect(await hostStats(owner)).toMatchObject({ sessionId, socketsOpened: 1, tabs: 3 });
  } finally {
    streaming = false;
    await stream;
  }
}

test.describe('chaos: a frozen refresh-handler tab (issue 10)', () => {
  test(`the tab the host calls to refresh freezes through ${TAB_MAX_MISSED_DEADLINES - 1} refreshes: each lands before exp through another tab, and the resumed tab catches up in order`, async ({
    server,
    mintToken,
    openTabs,
  }) => {
    test.setTimeout(60_000);
    const tabs = await openTabs(3);
    await freezeThroughRefreshes(
      server,
      tabs,
      await mintToken({ sub: 'alice', expiresIn: TOKEN_SECONDS }),
      TAB_MAX_MISSED_DEADLINES - 1,
    );
  });

  test(`the tab the host calls to refresh freezes through ${TAB_MAX_MISSED_DEADLINES} refreshes (the host forgets it): the resumed tab still catches up in order`, async ({
    server,
    mintToken,
    openTabs,
  }) => {
    // Found by this scenario and fixed: the host's TabRegistry forgets a tab after
    // TAB_MAX_MISSED_DEADLINES missed calls (here three refreshToken calls into the frozen tab) and
    // closes its events port; the tab used to stay OPEN unaware, receiving nothing. Now ping(tabId)
    // answers -1 for a tab the host does not know, and the tab re-attaches and replays its
    // subscriptions after their last seq.
    test.setTimeout(60_000);
    const tabs = await openTabs(3);
    await freezeThroughRefreshes(
      server,
      tabs,
      await mintToken({ sub: 'alice', expiresIn: TOKEN_SECONDS }),
      TAB_MAX_MISSED_DEADLINES,
    );
  });

  test('with the preferred tab frozen and the only other handler slow (400 ms, a slow token endpoint), the refresh still lands before exp', async ({
    server,
    mintToken,
    openTabs,
  }) => {
    // Library weakness, found by the random-tabs scenario and reproduced here: a round starts
    // REFRESH_LEAD_MS (1 s) before exp; the frozen preferred tab gets half of it (500 ms), the next
    // handler half of the rest (250 ms) and is abandoned although it answers ~100 ms before exp;
    // the round fails and is retried REFRESH_RETRY_MS (500 ms) later — after exp — so the session
    // ends with TOKEN_EXPIRED (src/worker/token-refresher.ts #callDeadline and retryLater). Expected:
    // a handler that answers before exp is adopted, and a failed round with little time left is
    // retried before exp, not after it.
    test.setTimeout(30_000);
    const [slow, preferred] = await openTabs(2);
    const login = await mintToken({ sub: 'alice', expiresIn: TOKEN_SECONDS });
    const exp = expOf(login)!;
    // The host calls the most recently registered visible tab first: `preferred`.
    await openSession(slow!, server.url, login, { refresh: { sub: 'alice', expiresIn: 60, delayMs: 400 } });
    await openSession(preferred!, server.url, login, { refresh: { sub: 'alice', expiresIn: 60 } });
    await freezeTab(preferred!);
    try {
      await slow!.waitForFunction(
        () => window.events.refreshCalls.some((c) => c.token) || window.events.sessionErrors.length > 0,
        undefined,
        { timeout: exp - Date.now() + 5_000 },
      );
      await slow!.waitForTimeout(Math.max(0, exp + 1_000 - Date.now()));
    } finally {
      await resumeTab(preferred!);
    }
    const events = await pageEvents(slow!);
    const answered = events.refreshCalls.find((c) => c.token);
    const host = await slow!.evaluate(() => window.client.inspect!());
    printFigures('slow handler behind a frozen preferred tab', {
      'slow handler': answered
        ? `called ${exp - answered.t} ms before exp, answered about ${exp - answered.t - 400} ms before exp`
        : 'never answered',
      'host log': host.log.map((l) => l.line).join(' | '),
      'session errors': JSON.stringify(events.sessionErrors.map((e) => e.type)),
    });
    expect(events.sessionErrors).toEqual([]);
    expect((await getSession(slow!))?.expiresAt, "the session runs on the slow handler's token").toBeGreaterThan(exp);
  });
});
