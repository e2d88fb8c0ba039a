/**
 * Helpers for the host specs (leader tab, version skew, host health): removing `SharedWorker` from a
 * context, watching the server's socket count while hosts change hands, and small page-side reads.
 */
import type { Page } from '@playwright/test';
import { expect, type PageEvents, type SessionServer } from './fixtures.ts';

/** The testing kit's `withoutSharedWorker(context)`: host 'auto' → leader in every page of the context. */
export { withoutSharedWorker } from './fixtures.ts';

/** `client.hostKind` in the page. */
export function hostKind(page: Page): Promise<string> {
  return page.evaluate(() => window.client.hostKind);
}

/** What a {@link SocketWatch} saw. */
export interface SocketWatchReport {
  /** Most sockets the server had open at one sample. */
  max: number;
  /** Total time the count was above 1, ms (between samples). */
  msAboveOne: number;
  /** Longest uninterrupted stretch above 1, ms. */
  longestAboveOneMs: number;
  /** Samples taken. */
  samples: number;
  /** Epoch ms of the first sample at which the server had no socket at all, if any. */
  firstZeroAt: number | undefined;
  /** Epoch ms of the first sample after a zero at which the server had a socket again, if any. */
  backAt: number | undefined;
}

/** Polls `server.stats().sockets` every few ms until stopped (node side: no browser round trip). */
export interface SocketWatch {
  stop(): SocketWatchReport;
}

/** Starts sampling `server.stats().sockets` every `intervalMs`. */
export function watchSockets(server: Pick<SessionServer, 'stats'>, intervalMs = 2): SocketWatch {
  let max = 0;
  let msAboveOne = 0;
  let longestAboveOneMs = 0;
  let aboveSince: number | undefined;
  let samples = 0;
  let firstZeroAt: number | undefined;
  let backAt: number | undefined;
  let last = performance.now();
  const sample = () => {
    const now = performance.now();
    const sockets = server.stats().sockets;
    samples++;
    max = Math.max(max, sockets);
    if (sockets > 1) {
      msAboveOne += now - last;
      aboveSince ??= now;
      longestAboveOneMs = Math.max(longestAboveOneMs, now - aboveSince);
    } else {
      aboveSince = undefined;
    }
    if (sockets === 0) firstZeroAt ??= Date.now();
    else if (firstZeroAt !== undefined) backAt ??= Date.now();
    last = now;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { max, msAboveOne, longestAboveOneMs, samples, firstZeroAt, backAt };
    },
  };
}

/**
 * Waits until the page's client is `OPEN`, attached to a host whose `debugHostStats()` matches
 * `predicate` (e.g. the new leader, with the surviving tabs). Polls from the test side:
 * `page.waitForFunction` does not wait for a predicate's promise before judging it truthy.
 */
export async function waitForHostOf(
  page: Page,
  predicate: { tabs?: number; kind?: string; buildIdIncludes?: string },
  timeout = 10_000,
): Promise<void> {
  const matches = () =>
    page.evaluate(async (p) => {
      if (window.client?.connectionStatus !== 'OPEN' || !window.client.debugHostStats) return false;
      // A call into a host that just died never settles (until its 15 s deadline): give up on it
      // quickly so that the next poll asks the new host.
      const stats = await Promise.race([
        window.client.debugHostStats(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
      ]);
      return (
        stats !== undefined &&
        stats.status === 'OPEN' &&
        (p.tabs === undefined || stats.tabs === p.tabs) &&
        (p.kind === undefined || stats.kind === p.kind) &&
        (p.buildIdIncludes === undefined || stats.buildId.includes(p.buildIdIncludes))
      );
    }, predicate);
  await expect
    .poll(matches, { message: `host of the tab: OPEN, ${JSON.stringify(predicate)}`, timeout, intervals: [10] })
    .toBe(true);
}

/** The first `OPEN` the page recorded at or after `since` (epoch ms), if any. */
export function openedAfter(events: PageEvents, since: number): number | undefined {
  return events.statuses.find((s) => s.status === 'OPEN' && s.t >= since)?.t;
}
