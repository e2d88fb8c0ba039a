/**
 * Page-side helpers for the data-plane specs: thin wrappers over `window.harness.subscribe` /
 * `publish` and what they recorded in `window.subscriptions` / `window.publishes`.
 */
import type { Page } from '@playwright/test';
import type { JsonValue, Outcome, PublishLog, SubscriptionLog } from './app/harness-types.ts';
import { createClient, expect, hostStats, startSession, type HostStats, type SessionServer } from './fixtures.ts';

export type { SubscriptionLog };

/** `client.subscribe(topic, …)` in the page, recorded under `label`. */
export function subscribe(page: Page, label: string, topic: string, options: { since?: number } = {}): Promise<void> {
  return page.evaluate(([l, t, o]) => window.harness.subscribe(l, t, o), [label, topic, options] as const);
}

/** Calls the unsubscribe function of `label`. */
export function unsubscribe(page: Page, label: string): Promise<void> {
  return page.evaluate((l) => window.harness.unsubscribe(l), label);
}

/** What subscription `label` of the page received so far. */
export function received(page: Page, label: string): Promise<SubscriptionLog> {
  return page.evaluate((l) => {
    const log = window.subscriptions[l];
    if (!log) throw new Error(`no subscription "${l}" in this page`);
    return log;
  }, label);
}

/** The seqs subscription `label` received, in arrival order. */
export async function seqsOf(page: Page, label: string): Promise<number[]> {
  return (await received(page, label)).changes.map((c) => c.seq);
}

/** Waits until subscription `label` received at least `count` changes; returns what it received. */
export async function waitForChanges(
  page: Page,
  label: string,
  count: number,
  timeout = 10_000,
): Promise<SubscriptionLog> {
  await page.waitForFunction(([l, n]) => (window.subscriptions[l]?.changes.length ?? 0) >= n, [label, count] as const, {
    timeout,
    polling: 10,
  });
  return received(page, label);
}

/** Waits until subscription `label` got an `onError`; returns what it received. */
export async function waitForSubscriptionError(page: Page, label: string, timeout = 10_000): Promise<SubscriptionLog> {
  await page.waitForFunction((l) => (window.subscriptions[l]?.errors.length ?? 0) > 0, label, { timeout });
  return received(page, label);
}

/** Starts `client.publish(topic, data)` in the page without waiting for it; returns the harness's id. */
export function startPublish(page: Page, topic: string, data: JsonValue): Promise<string> {
  // `data` travels as unknown: Playwright's argument type recursing through JsonValue is too deep for tsc.
  const arg: { topic: string; data: unknown } = { topic, data };
  return page.evaluate(({ topic, data }) => window.harness.publish(topic, data as JsonValue), arg);
}

/** The record of publish `id`. */
export function publishLog(page: Page, id: string): Promise<PublishLog> {
  return page.evaluate((i) => window.publishes[i]!, id);
}

/** Waits until publish `id` settled; returns its outcome. */
export async function publishOutcome(page: Page, id: string, timeout = 10_000): Promise<Outcome<{ seq: number }>> {
  await page.waitForFunction((i) => window.publishes[i]?.outcome !== undefined, id, { timeout, polling: 10 });
  return (await publishLog(page, id)).outcome!;
}

/** `client.publish(topic, data)` in the page; resolves with `{ seq }` (fails the test when it rejects). */
export async function publishFromTab(page: Page, topic: string, data: JsonValue): Promise<{ seq: number }> {
  const outcome = await publishOutcome(page, await startPublish(page, topic, data));
  expect(outcome.ok ? undefined : outcome.error, `publish to ${topic} rejected`).toBeUndefined();
  return (outcome as Extract<typeof outcome, { ok: true }>).value;
}

/** `server.publish` of `count` changes `{ n }`, one after the other; returns their seqs. */
export async function publishOnServer(
  server: Pick<SessionServer, 'publish'>,
  topic: string,
  count: number,
  data: (n: number) => JsonValue = (n) => ({ n }),
): Promise<number[]> {
  const seqs: number[] = [];
  for (let n = 1; n <= count; n++) seqs.push((await server.publish(topic, data(n))).seq);
  return seqs;
}

/** Polls the host's counters (through `client.debugHostStats()`) until `predicate` holds. */
export async function waitForHost(
  page: Page,
  predicate: (stats: HostStats) => boolean,
  what: string,
): Promise<HostStats> {
  let last: HostStats | undefined;
  await expect
    .poll(
      async () => {
        last = await hostStats(page);
        return predicate(last);
      },
      { message: `host: ${what}`, timeout: 10_000, intervals: [10, 25, 50, 100] },
    )
    .toBe(true);
  return last!;
}

/** Creates the client and starts the session without waiting for OPEN (the server may be unreachable). */
export async function startOffline(page: Page, serverUrl: string, token: string): Promise<void> {
  await createClient(page, { serverUrl });
  const result = await startSession(page, token);
  expect(result.error, 'startSession rejected').toBeUndefined();
}

/** Reloads a tab of the test app and waits for its harness (no client yet). */
export async function reloadTab(page: Page): Promise<void> {
  await page.reload();
  await page.waitForFunction(() => window.harness !== undefined);
}

/**
 * Reads the cursor the host stored in IndexedDB for `[userId, topic]`, in a page of the same origin:
 * a page function (pass it to `evaluate`), shared with the cross-engine helpers.
 */
export function readStoredCursor([userId, topic]: readonly [string, string]): Promise<number | undefined> {
  return new Promise<number | undefined>((resolve, reject) => {
    // Opened without a version, so this never creates or upgrades the host's database (it exists by now).
    const open = indexedDB.open('shared-session');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const get = db.transaction('cursors').objectStore('cursors').get([userId, topic]);
      get.onsuccess = () => {
        db.close();
        resolve((get.result as { cursor: number } | undefined)?.cursor);
      };
      get.onerror = () => {
        db.close();
        reject(get.error);
      };
    };
  });
}

/**
 * The cursor the host stored in IndexedDB for (`userId`, `topic`), read from a page of the same
 * origin. The host writes received changes and their cursor in one transaction a little after they
 * arrived (`CACHE_SAVE_DELAY_MS`): wait for this before relying on what the cache holds.
 */
export function storedCursor(page: Page, userId: string, topic: string): Promise<number | undefined> {
  return page.evaluate(readStoredCursor, [userId, topic] as const);
}

/** Median and maximum of `values`, for console lines. */
export function summarize(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return `median ${median.toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`;
}
