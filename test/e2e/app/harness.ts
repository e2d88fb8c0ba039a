/**
 * The e2e test app's harness: puts the built package and a small recording harness on `window`; the
 * specs drive it with `page.evaluate`. Refresh handlers run here, in the page, and get their tokens from
 * the test through `window.mintFreshToken` (exposed by the fixtures). entry.js passes in the package.
 */
import type {
  ClientSetup,
  ConnectionStatus,
  ErrorInfo,
  Harness,
  PageClient,
  PageEvents,
  PublishLog,
  RefreshOptions,
  RefreshPlan,
  RefreshSetup,
  SubscriptionLog,
} from './harness-types.ts';

/** Asks the test's token service (`?mint=`) for a token for `plan`. */
async function fetchToken(url: string, plan: RefreshPlan): Promise<string> {
  // A text body keeps it a simple CORS request (no preflight).
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(plan) });
  if (!response.ok) throw new Error(`token service: HTTP ${response.status}`);
  return response.text();
}

/** Installs `window.SS`, `window.harness`, `window.events` for the package `SS`. */
export function installHarness(SS: Window['SS']): void {
  const { SessionClient, errors } = SS;
  const events: PageEvents = {
    statuses: [],
    sessionErrors: [],
    ctorSessionErrors: [],
    refreshCalls: [],
    updatesAvailable: [],
    hostUnavailable: [],
    hostLog: [],
  };
  window.SS = SS;
  window.events = events;
  // Drivers without Playwright's `exposeFunction` (WebDriver BiDi, W3C WebDriver) pass `?mint=URL`:
  // the test's token service, which signs with the test server's secret.
  const mintUrl = new URLSearchParams(location.search).get('mint');
  if (mintUrl) window.mintFreshToken = (plan) => fetchToken(mintUrl, plan);
  window.stops = [];
  window.refreshPlan = undefined;
  window.subscriptions = {};
  window.publishes = {};
  const unsubscribes = new Map<string, () => void>();

  function describeError(error: unknown): ErrorInfo {
    const e = error as { name?: unknown; code?: unknown; message?: unknown } | null;
    const instanceOf = Object.entries(errors)
      .filter(([name, value]) => typeof value === 'function' && /Error$/.test(name) && error instanceof value)
      .map(([name]) => name);
    return {
      name: typeof e?.name === 'string' ? e.name : typeof error,
      code: typeof e?.code === 'string' ? e.code : undefined,
      message: typeof e?.message === 'string' ? e.message : String(error),
      instanceOf,
    };
  }

  function refreshOptions(setup: RefreshSetup): RefreshOptions {
    const { interval, ...plan } = setup;
    window.refreshPlan = plan;
    const refreshHandler = async (): Promise<string | undefined> => {
      const call: PageEvents['refreshCalls'][number] = { t: Date.now() };
      events.refreshCalls.push(call);
      const current = window.refreshPlan;
      if (!current || current.mode === 'undefined') return undefined;
      if (current.mode === 'throw') {
        call.error = 'thrown on purpose';
        throw new Error('refresh handler failed on purpose');
      }
      if (current.delayMs) await new Promise((resolve) => setTimeout(resolve, current.delayMs));
      call.token = await window.mintFreshToken(current);
      return call.token;
    };
    return interval === undefined ? { refreshHandler } : { refreshHandler, interval };
  }

  function client(): PageClient {
    if (!window.client) throw new Error('harness: call createClient first');
    return window.client;
  }

  function waitForStatus(target: ConnectionStatus, timeoutMs: number): Promise<boolean> {
    const c = client();
    if (c.connectionStatus === target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(false);
      }, timeoutMs);
      const off = c.onConnectionStatusChange((status) => {
        if (status !== target) return;
        clearTimeout(timer);
        off();
        resolve(true);
      });
    });
  }

  const harness: Harness = {
    createClient(setup: ClientSetup) {
      const { refresh, recordHostLog, ...rest } = setup;
      const c = new SessionClient({
        ...rest,
        ...(refresh && { refreshOptions: refreshOptions(refresh) }),
        ...(recordHostLog && { debug: (line: string) => events.hostLog.push({ line, t: Date.now() }) }),
        onSessionError: (type) => events.ctorSessionErrors.push({ type, t: Date.now() }),
      });
      window.client = c;
      c.onConnectionStatusChange((status) => {
        events.statuses.push({ status, t: Date.now(), p: performance.now() });
        document.getElementById('status')!.textContent = status;
      }, true);
      c.onSessionError((type) => events.sessionErrors.push({ type, t: Date.now() }));
      c.onUpdateAvailable((buildId) => events.updatesAvailable.push({ buildId, t: Date.now() }));
      c.onHostUnavailable((error) =>
        events.hostUnavailable.push({ code: error.code, message: error.message, t: Date.now(), p: performance.now() }),
      );
      return c.connectionStatus;
    },

    async startSession(token, options = {}) {
      const { autoConnect, refresh, waitForOpen = false } = options;
      const started = performance.now();
      const args: [string, boolean?, RefreshOptions?] = [token];
      if (autoConnect !== undefined || refresh) args.push(autoConnect ?? true);
      if (refresh) args.push(refreshOptions(refresh));
      try {
        window.stops.push(await client().startSession(...args));
      } catch (error) {
        return { ok: false, error: describeError(error), settledMs: performance.now() - started };
      }
      const settledMs = performance.now() - started;
      if (!waitForOpen) return { ok: true, settledMs };
      const open = await waitForStatus('OPEN', 10_000);
      return open ? { ok: true, settledMs, openMs: performance.now() - started } : { ok: true, settledMs };
    },

    async call(method, ...args) {
      const started = performance.now();
      try {
        const fn = client()[method] as (...a: unknown[]) => Promise<never>;
        const value = await fn.apply(client(), args);
        return { ok: true, value, ms: performance.now() - started };
      } catch (error) {
        return { ok: false, error: describeError(error), ms: performance.now() - started };
      }
    },

    subscribe(label, topic, options = {}) {
      if (window.subscriptions[label]) throw new Error(`harness: subscription "${label}" exists`);
      const log: SubscriptionLog = { topic, since: options.since, changes: [], errors: [] };
      window.subscriptions[label] = log;
      const unsubscribe = client().subscribe(
        topic,
        (change) => log.changes.push({ ...change, receivedAt: Date.now() }),
        {
          ...(options.since !== undefined && { since: options.since }),
          onError: (error) => log.errors.push({ ...describeError(error), receivedAt: Date.now() }),
        },
      );
      unsubscribes.set(label, unsubscribe);
    },

    unsubscribe(label) {
      unsubscribes.get(label)?.();
      unsubscribes.delete(label);
    },

    publish(topic, data) {
      const id = crypto.randomUUID();
      const log: PublishLog = { topic, data, startedAt: Date.now() };
      window.publishes[id] = log;
      const started = performance.now();
      client()
        .publish(topic, data)
        .then(
          (value) => (log.outcome = { ok: true, value, ms: performance.now() - started }),
          (error: unknown) =>
            (log.outcome = { ok: false, error: describeError(error), ms: performance.now() - started }),
        );
      return id;
    },

    describeError,
  };

  window.harness = harness;
  document.getElementById('status')!.textContent = 'ready';
}
