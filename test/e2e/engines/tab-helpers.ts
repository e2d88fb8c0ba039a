/**
 * Engine-neutral helpers over the test app's harness (`window.harness`, `window.events`, …): the
 * cross-engine scenarios drive tabs only through {@link EngineTab.evaluate}, so the same code runs in
 * Chromium, Firefox and WebKit. Waiting is done by polling from the test (WebDriver has no
 * `waitForFunction`), every {@link POLL_INTERVAL_MS}.
 */
import { expect } from '@playwright/test';
import type {
  ClientSetup,
  ConnectionStatus,
  HostStats,
  JsonValue,
  Outcome,
  PageEvents,
  RefreshSetup,
  SessionInfo,
  StartResult,
} from '../app/harness-types.ts';
import { readStoredCursor } from '../topic-helpers.ts';
import type { EngineTab, PageFunction } from './driver.ts';

/** How often a wait asks the tab again. */
export const POLL_INTERVAL_MS = 20;

/**
 * Waits until `fn(arg)` is truthy in `tab` and returns that value.
 *
 * @param what - what is awaited, for the failure message
 */
export async function waitFor<Result, Arg = undefined>(
  tab: EngineTab,
  what: string,
  fn: PageFunction<Arg, Result>,
  arg?: Arg,
  timeout = 10_000,
): Promise<NonNullable<Result>> {
  let last: Result | undefined;
  await expect
    .poll(
      async () => {
        last = await tab.evaluate(fn, arg);
        return Boolean(last);
      },
      { message: what, timeout, intervals: [POLL_INTERVAL_MS] },
    )
    .toBe(true);
  return last as NonNullable<Result>;
}

/** Waits until the test app's harness is installed (after a load or reload). */
export async function waitForHarness(tab: EngineTab): Promise<void> {
  await waitFor(tab, 'the harness is ready', () => typeof window.harness === 'object');
}

/** Reloads `tab` and waits for its harness (the page has no client until {@link createClient}). */
export async function reloadTab(tab: EngineTab): Promise<void> {
  await tab.reload();
  await waitForHarness(tab);
}

/** `new SessionClient(setup)` in the tab, as `window.client`. */
export function createClient(tab: EngineTab, setup: ClientSetup): Promise<ConnectionStatus> {
  return tab.evaluate((s) => window.harness.createClient(s), setup);
}

/** `client.startSession(token, …)` in the tab. */
export function startSession(
  tab: EngineTab,
  token: string,
  options: { refresh?: RefreshSetup | false; waitForOpen?: boolean } = {},
): Promise<StartResult> {
  return tab.evaluate(([t, o]) => window.harness.startSession(t, o), [token, options] as const);
}

/** Creates the client and starts a session, expecting `OPEN` within 10 s. */
export async function openSession(
  tab: EngineTab,
  serverUrl: string,
  token: string,
  options: { refresh?: RefreshSetup; host?: ClientSetup['host'] } = {},
): Promise<StartResult> {
  const setup: ClientSetup = options.host ? { serverUrl, host: options.host } : { serverUrl };
  await createClient(tab, setup);
  const result = await startSession(tab, token, { refresh: options.refresh ?? false, waitForOpen: true });
  expect(result.error, 'startSession rejected').toBeUndefined();
  expect(result.openMs, 'OPEN within 10 s of startSession').toBeDefined();
  return result;
}

/** `client[method](...args)` in the tab, with its outcome (typed errors as `{ name, code, instanceOf }`). */
export function call(
  tab: EngineTab,
  method: 'updateSessionToken' | 'endSession',
  token?: string,
): Promise<Outcome<unknown>> {
  return tab.evaluate(
    ([m, t]) => (t === null ? window.harness.call(m as 'endSession') : window.harness.call('updateSessionToken', t)),
    [method, token ?? null] as const,
  );
}

export function connectionStatus(tab: EngineTab): Promise<ConnectionStatus> {
  return tab.evaluate(() => window.client.connectionStatus);
}

export function getSession(tab: EngineTab): Promise<SessionInfo | undefined> {
  return tab.evaluate(() => window.client.getSession());
}

export function pageEvents(tab: EngineTab): Promise<PageEvents> {
  return tab.evaluate(() => window.events);
}

export function hostKind(tab: EngineTab): Promise<string> {
  return tab.evaluate(() => window.client.hostKind);
}

/** The host's counters (`client.debugHostStats()`), or `undefined` when the host does not answer within 100 ms. */
export function hostStats(tab: EngineTab): Promise<HostStats | undefined> {
  return tab.evaluate(() =>
    Promise.race([
      window.client.debugHostStats!(),
      // A call into a host that just died is answered by nobody: let the next poll ask the new one.
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
    ]),
  );
}

/** Waits until the tab's client reports `status`. */
export async function waitForStatus(tab: EngineTab, status: ConnectionStatus, timeout = 10_000): Promise<void> {
  await waitFor(tab, `status ${status}`, (s) => window.client?.connectionStatus === s, status, timeout);
}

/** Waits until the tab recorded a session error of `type`; returns when (epoch ms in the page). */
export function waitForSessionError(tab: EngineTab, type: string, timeout = 10_000): Promise<number> {
  return waitFor(
    tab,
    `session error ${type}`,
    (ty) => window.events.sessionErrors.find((e) => e.type === ty)?.t,
    type,
    timeout,
  );
}

/** Waits until the tab's host is `OPEN` and its stats match `predicate`. */
export async function waitForHost(
  tab: EngineTab,
  what: string,
  predicate: (stats: HostStats) => boolean,
  timeout = 10_000,
): Promise<HostStats> {
  let last: HostStats | undefined;
  await expect
    .poll(
      async () => {
        last = await hostStats(tab);
        return last !== undefined && predicate(last);
      },
      { message: `host: ${what}`, timeout, intervals: [POLL_INTERVAL_MS] },
    )
    .toBe(true);
  return last!;
}

/** `client.subscribe(topic, …)` recorded under `label`. */
export function subscribe(tab: EngineTab, label: string, topic: string): Promise<void> {
  return tab.evaluate(([l, t]) => window.harness.subscribe(l, t), [label, topic] as const);
}

/** The seqs subscription `label` received, in arrival order. */
export function seqsOf(tab: EngineTab, label: string): Promise<number[]> {
  return tab.evaluate((l) => (window.subscriptions[l]?.changes ?? []).map((c) => c.seq), label);
}

/** The data of the changes subscription `label` received, in arrival order. */
export function dataOf(tab: EngineTab, label: string): Promise<unknown[]> {
  return tab.evaluate((l) => (window.subscriptions[l]?.changes ?? []).map((c) => c.data), label);
}

/** Waits until subscription `label` received at least `count` changes; returns their seqs. */
export async function waitForChanges(tab: EngineTab, label: string, count: number, timeout = 10_000) {
  await waitFor(
    tab,
    `${count} change(s) on "${label}"`,
    ([l, n]) => (window.subscriptions[l]?.changes.length ?? 0) >= n,
    [label, count] as const,
    timeout,
  );
  return seqsOf(tab, label);
}

/** Starts `client.publish(topic, data)` without awaiting it; returns the harness's id. */
export function startPublish(tab: EngineTab, topic: string, data: JsonValue): Promise<string> {
  return tab.evaluate(([t, d]) => window.harness.publish(t, d), [topic, data] as const);
}

/** Waits until publish `id` settled; returns its outcome. */
export function publishOutcome(tab: EngineTab, id: string, timeout = 10_000): Promise<Outcome<{ seq: number }>> {
  return waitFor(tab, `publish ${id} settled`, (i) => window.publishes[i]?.outcome, id, timeout);
}

/**
 * The cursor the host stored in IndexedDB for (`userId`, `topic`): the host writes the cache a little
 * after changes arrive, so wait for it before a reload that should resume from it.
 */
export function storedCursor(tab: EngineTab, userId: string, topic: string): Promise<number | undefined> {
  return tab.evaluate(readStoredCursor, [userId, topic] as const);
}
