import * as Comlink from 'comlink';
import { createSessionError, HostUnavailableError, SessionError } from '../errors/index.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type {
  ConnectionStatus,
  HostApi,
  HostEvent,
  HostHello,
  HostKind,
  HostStats,
  PublishOutcome,
  RefreshRegistration,
  SessionInfo,
  TabCallbacks,
  TabMessage,
  TopicChange,
} from '../protocol/host-api.js';
import type { JsonValue } from '../protocol/messages.js';
import { LIBRARY_BUILD_ID, PROTOCOL_VERSION } from '../protocol/version.js';
import { registerErrorTransfer } from '../shared/error-transfer.js';
import { withDeadline } from '../shared/deadline.js';
import { connectSharedWorkerHost, holdTabLock, type HostConnection } from './host-connection.js';
import { connectLeaderHost } from './leader-connection.js';
import { toSocketUrl } from './server-url.js';

/** Deadline for any call from the page into its host. */
export const HOST_CALL_TIMEOUT_MS = 15_000;
/** How often pending host calls are checked against {@link HOST_CALL_TIMEOUT_MS}. */
export const CALL_SWEEP_INTERVAL_MS = 1_000;

interface PendingCall {
  startedAt: number;
  /** Sends the call to the current host (again, after a host change); `now` skips waiting for attach. */
  send(now?: boolean): void;
  reject(error: unknown): void;
}

/** How often a tab checks that its host still answers. */
export const HOST_HEALTH_INTERVAL_MS = 5_000;
/** Deadline of one health ping (a healthy host answers within milliseconds). */
export const HOST_HEALTH_TIMEOUT_MS = 3_000;
/** Health pings missed in a row before the host counts as unresponsive. */
export const HOST_HEALTH_MAX_MISSES = 2;
/** With `host: 'auto'`, a SharedWorker that has not answered `attach` by then is given up for a leader host. */
export const SHARED_WORKER_ATTACH_TIMEOUT_MS = 5_000;

/** Returns a new token, or `undefined` for "no new token" (the session then ends at `exp`). */
export type RefreshHandler = () => Promise<string | undefined | null>;

/** How the session's token is kept fresh (spec §3). */
export interface RefreshOptions {
  /** Called 1 s before the token's `exp` (or every `interval` ms); returns the new token. */
  refreshHandler: RefreshHandler;
  /** Refresh every `interval` ms instead of before `exp`. */
  interval?: number;
}

/** Options of {@link SessionClient.subscribe}. */
export interface SubscribeOptions {
  /** Deliver changes after this seq; default: from the start of what is retained. */
  since?: number;
  /** Called once if the subscription is refused (e.g. `FORBIDDEN`) or fails; no data follows. */
  onError?: (error: SessionError) => void;
}

/** Options of {@link SessionClient}. */
export interface SessionClientOptions {
  /** http(s) or ws(s) URL of the server. */
  serverUrl: string;
  /** Starts the session at once, like `startSession(token, autoConnect, refreshOptions)`. */
  token?: string;
  /** Open the socket as soon as a session starts. Default `true`. */
  autoConnect?: boolean;
  /** Refresh handler for the session started with `token`. */
  refreshOptions?: RefreshOptions;
  /** Receives every session error (also in the other tabs of the session). */
  onSessionError?: (type: SessionErrorType) => void;
  /** The app's schema version; the server closes with SCHEMA_MISMATCH when it cannot serve it. */
  schema?: { version: number };
  /** Where the session host runs. Default `'auto'` (the SharedWorker). */
  host?: 'auto' | 'shared-worker' | 'leader';
  /** URL of the host's worker script; default: the bundle shipped in the package. */
  workerUrl?: string | URL;
}

/**
 * The session API of one tab. Every tab of the origin talks to the same host, which holds one
 * WebSocket to the server; this object is the tab's handle on it. Import from
 * `shared-session/page` (or `shared-session`).
 *
 * @example
 * ```ts
 * import { SessionClient } from 'shared-session/page';
 *
 * const client = new SessionClient({ serverUrl: 'https://api.example.com', onSessionError: (type) => logout(type) });
 * const stopRefresh = await client.startSession(await getToken(), true, {
 *   refreshHandler: () => fetch('/token').then((r) => r.text()),
 * });
 * client.onConnectionStatusChange((status) => render(status), true);
 * ```
 */
export class SessionClient {
  readonly #serverUrl: string;
  readonly #schemaVersion: number | undefined;
  readonly #tabId = crypto.randomUUID();
  readonly #lockName = `shared-session:tab:${this.#tabId}`;
  readonly #hostMode: 'auto' | 'shared-worker' | 'leader';
  readonly #workerUrl: string | URL | undefined;
  #host: HostConnection;
  #ready: Promise<void> = Promise.resolve();
  readonly #updateListeners = new Set<(buildId: string) => void>();
  /** What this tab asked of the session, replayed when a new leader host takes over. */
  #intent: { autoConnect: boolean; refresh: RefreshRegistration | undefined } | undefined;
  /** The freshest token this tab knows (its own, or pushed by a leader host). */
  #latestToken: string | undefined;
  #lockHeld = false;
  /** `#ready` has resolved and no re-attach is running. */
  #attached = false;
  #eventsPort: MessagePort | undefined;
  readonly #pendingCalls = new Set<PendingCall>();
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  readonly #hostUnavailableListeners = new Set<(error: SessionError) => void>();
  #healthTimer: ReturnType<typeof setInterval> | undefined;
  #checkingHealth = false;
  #healthMisses = 0;
  #recovering = false;
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();
  readonly #errorListeners = new Set<(type: SessionErrorType) => void>();
  readonly #sessionListeners = new Set<(session: SessionInfo | undefined) => void>();
  readonly #refreshHandlers = new Map<string, RefreshHandler>();
  readonly #subscriptions = new Map<
    string,
    {
      topic: string;
      onChange: (change: TopicChange) => void;
      onError?: (error: SessionError) => void;
      /** Last seq delivered (or `since`): a new host resumes the subscription from here. */
      last: number | undefined;
    }
  >();
  readonly #publishes = new Map<string, { resolve(value: { seq: number }): void; reject(error: unknown): void }>();
  #status: ConnectionStatus = 'UNINITIALIZED';
  #session: SessionInfo | undefined;
  #closed = false;
  #releaseLock: () => void = () => undefined;
  #onVisibility: (() => void) | undefined;

  /** @param options - see {@link SessionClientOptions} */
  constructor(options: SessionClientOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    this.#serverUrl = toSocketUrl(options.serverUrl);
    if (options.schema !== undefined && !Number.isSafeInteger(options.schema?.version)) {
      throw new TypeError('"schema.version" must be an integer');
    }
    if (options.host !== undefined && !['auto', 'shared-worker', 'leader'].includes(options.host)) {
      throw new TypeError('"host" must be "auto", "shared-worker" or "leader"');
    }
    this.#schemaVersion = options.schema?.version;
    this.#hostMode = options.host ?? 'auto';
    this.#workerUrl = options.workerUrl;
    if (options.onSessionError) this.onSessionError(options.onSessionError);
    registerErrorTransfer();
    this.#host = this.#connectHost(
      this.#hostMode === 'leader' || typeof SharedWorker !== 'function' ? 'leader' : 'shared-worker',
    );
    this.#startAttach(false);
    this.#healthTimer = setInterval(() => void this.#checkHealth(), HOST_HEALTH_INTERVAL_MS);
    this.#sweepTimer = setInterval(() => this.#sweepCalls(), CALL_SWEEP_INTERVAL_MS);
    if (options.token !== undefined) {
      // Errors reach onSessionError; the constructor cannot reject.
      this.startSession(options.token, options.autoConnect ?? true, options.refreshOptions).catch(() => undefined);
    }
  }

  /** The host's connection status, as last reported to this tab. */
  get connectionStatus(): ConnectionStatus {
    return this.#status;
  }

  /** Where this tab's host runs. */
  get hostKind(): HostKind {
    return this.#host.kind;
  }

  /**
   * Starts a session with `token`, or joins the running one when it is the same user (no new
   * socket). A token of another user ends the current session in every tab first.
   *
   * @param token - a JWT
   * @param autoConnect - open the socket now (default `true`); otherwise call {@link connect}
   * @param refreshOptions - a refresh handler for this session
   * @returns a function that stops the refresh this call set up
   * @throws {@link SessionError} `UNAUTHORIZED` for a value that is not a JWT or a token that had
   *   expired (and could not be refreshed)
   */
  async startSession(token: string, autoConnect = true, refreshOptions?: RefreshOptions): Promise<() => void> {
    if (typeof token !== 'string') throw new TypeError('"token" must be a string');
    if (typeof autoConnect !== 'boolean') throw new TypeError('"autoConnect" must be a boolean');
    const refresh = validateRefreshOptions(refreshOptions);
    const refreshId = refresh ? crypto.randomUUID() : undefined;
    if (refresh && refreshId) this.#refreshHandlers.set(refreshId, refresh.refreshHandler);
    let started: SessionInfo;
    try {
      started = await this.#call((api, tabId) =>
        api.startSession(tabId, {
          token,
          autoConnect,
          serverUrl: this.#serverUrl,
          ...(this.#schemaVersion !== undefined && { schemaVersion: this.#schemaVersion }),
          ...(refresh &&
            refreshId && {
              refresh: { refreshId, ...(refresh.interval !== undefined && { interval: refresh.interval }) },
            }),
        }),
      );
    } catch (error) {
      if (refreshId) this.#refreshHandlers.delete(refreshId);
      throw error;
    }
    this.#latestToken = token;
    this.#session ??= started; // the `session` event may come after the answer
    this.#intent = {
      autoConnect,
      refresh: refreshId
        ? { refreshId, ...(refresh?.interval !== undefined && { interval: refresh.interval }) }
        : this.#intent?.refresh,
    };
    return () => {
      if (!refreshId || !this.#refreshHandlers.delete(refreshId)) return;
      this.#call((api, tabId) => api.stopRefresh(tabId, refreshId)).catch(() => undefined);
    };
  }

  /**
   * Replaces the session's token on the live socket (no reconnect).
   *
   * @throws `NoActiveSessionError`, `TokenExpiredError`, `SessionRolesMismatchError` (the session
   *   then ends with ROLES_MISMATCH in every tab), or `UNAUTHORIZED` for a value that is not a JWT
   */
  async updateSessionToken(token: string): Promise<void> {
    if (typeof token !== 'string') throw new TypeError('"token" must be a string');
    await this.#call((api, tabId) => api.updateSessionToken(tabId, token));
    this.#latestToken = token;
  }

  /** Ends the session in every tab: socket closed, refresh stopped, metadata removed. Data stays. */
  async endSession(): Promise<void> {
    await this.#call((api, tabId) => api.endSession(tabId));
  }

  /** Wipes the local cache (IndexedDB data); the session keeps running. */
  async clear(): Promise<void> {
    await this.#call((api, tabId) => api.clear(tabId));
  }

  /** Opens the session's socket (after `startSession(token, false)` or `disconnect()`). */
  async connect(): Promise<void> {
    await this.#call((api, tabId) => api.connect(tabId));
  }

  /** Closes the session's socket for every tab without ending the session. */
  async disconnect(): Promise<void> {
    await this.#call((api, tabId) => api.disconnect(tabId));
  }

  /** The running session, or `undefined`. */
  async getSession(): Promise<SessionInfo | undefined> {
    return this.#call((api) => api.getSession());
  }

  /**
   * Calls `callback` on every status change; with `runImmediately`, also now with the current one.
   *
   * @returns a function that unsubscribes
   */
  onConnectionStatusChange(callback: (status: ConnectionStatus) => void, runImmediately = false): () => void {
    if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
    this.#statusListeners.add(callback);
    if (runImmediately) callback(this.#status);
    return () => this.#statusListeners.delete(callback);
  }

  /**
   * Calls `callback` with every session error (`UNAUTHORIZED`, `SCHEMA_MISMATCH`,
   * `TOKEN_EXPIRED`, `ROLES_MISMATCH`), whichever tab caused it.
   *
   * @returns a function that unsubscribes
   */
  onSessionError(callback: (type: SessionErrorType) => void): () => void {
    if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
    this.#errorListeners.add(callback);
    return () => this.#errorListeners.delete(callback);
  }

  /**
   * Calls `callback` when the session starts, changes (token, tabs attached) or ends.
   *
   * @returns a function that unsubscribes
   */
  onSessionChange(callback: (session: SessionInfo | undefined) => void, runImmediately = false): () => void {
    if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
    this.#sessionListeners.add(callback);
    if (runImmediately) callback(this.#session);
    return () => this.#sessionListeners.delete(callback);
  }

  /**
   * Subscribes to a topic. Changes arrive in order, without gaps or duplicates, across
   * reconnects and reloads: first what the host has cached, then the rest from the server, then
   * live. Identical subscriptions of several tabs are one server subscription.
   *
   * @param topic - topic name
   * @param onChange - called once per change
   * @param options - `since` (deliver after this seq) and `onError`
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * const stop = client.subscribe('room:42', (change) => render(change.data), { onError: (e) => alert(e.code) });
   * ```
   */
  subscribe(topic: string, onChange: (change: TopicChange) => void, options: SubscribeOptions = {}): () => void {
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('"topic" must be a non-empty string');
    if (typeof onChange !== 'function') throw new TypeError('"onChange" must be a function');
    const { since, onError } = options;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new TypeError('"since" must be a non-negative integer');
    }
    const subId = crypto.randomUUID();
    this.#subscriptions.set(subId, { topic, onChange, ...(onError && { onError }), last: since });
    this.#call((api, tabId) => api.subscribe(tabId, { subId, topic, ...(since !== undefined && { since }) })).catch(
      (error: unknown) => this.#failSubscription(subId, error),
    );
    return () => {
      if (!this.#subscriptions.delete(subId)) return;
      this.#call((api, tabId) => api.unsubscribe(tabId, subId)).catch(() => undefined);
    };
  }

  /**
   * Appends `data` to a topic. While offline or disconnected the message waits in the host's
   * outbox (IndexedDB) and is sent once the session is back; the server stores it exactly once.
   *
   * @param topic - topic name
   * @param data - any JSON value
   * @returns `{ seq }` once the server stored the change
   * @throws {@link SessionError} `FORBIDDEN`, `PAYLOAD_TOO_LARGE`, `INVALID_ARGUMENT`, `NO_ACTIVE_SESSION`
   */
  async publish(topic: string, data: JsonValue): Promise<{ seq: number }> {
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('"topic" must be a non-empty string');
    const clientId = crypto.randomUUID();
    const outcome = new Promise<{ seq: number }>((resolve, reject) =>
      this.#publishes.set(clientId, { resolve, reject }),
    );
    try {
      await this.#call((api, tabId) => api.publish(tabId, { clientId, topic, data }));
    } catch (error) {
      this.#publishes.delete(clientId);
      throw error;
    }
    return outcome;
  }

  /**
   * Calls `callback` when a newer build of the app runs its own host beside this tab's (a deploy
   * left tabs of two builds open): reload this tab to move to it. Also see
   * `registerServiceWorker` for service-worker driven updates.
   *
   * @returns a function that unsubscribes
   */
  onUpdateAvailable(callback: (buildId: string) => void): () => void {
    if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
    this.#updateListeners.add(callback);
    return () => this.#updateListeners.delete(callback);
  }

  /**
   * Calls `callback` when the host stops answering (a frozen or crashed worker). With
   * `host: 'auto'` the tab then moves to a leader-tab host by itself.
   *
   * @returns a function that unsubscribes
   */
  onHostUnavailable(callback: (error: SessionError) => void): () => void {
    if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
    this.#hostUnavailableListeners.add(callback);
    return () => this.#hostUnavailableListeners.delete(callback);
  }

  /** Asks every tab of the app (through the host) to reload, e.g. into a new build. */
  async reloadAllTabs(): Promise<void> {
    await this.#call((api) => api.reloadAllTabs());
  }

  /**
   * Measures one round trip to the host (page → host → page), in milliseconds. Rejects with
   * `HOST_UNAVAILABLE` when the host does not answer within the call deadline.
   */
  async pingHost(): Promise<number> {
    await this.#ready;
    const started = performance.now();
    await this.#call((api) => api.ping());
    return performance.now() - started;
  }

  /** Counters of the host (socket count, refreshes, tabs) for tests and status panels. */
  async debugHostStats(): Promise<HostStats> {
    return this.#call((api) => api.inspect());
  }

  /** Detaches this tab from the host; the session goes on for the other tabs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#healthTimer);
    clearInterval(this.#sweepTimer);
    const closed = new SessionError('CLIENT_CLOSED', 'this SessionClient was closed');
    this.#failPendingCalls(closed);
    // A publish already in the outbox is still sent and stored once; this tab just stops waiting.
    for (const pending of this.#publishes.values()) pending.reject(closed);
    this.#publishes.clear();
    if (this.#onVisibility) document.removeEventListener('visibilitychange', this.#onVisibility);
    void withDeadline(this.#host.api.detach(this.#tabId), 1_000, 'detach')
      .catch(() => undefined)
      .finally(() => {
        this.#releaseLock();
        this.#eventsPort?.close();
        this.#host.close();
      });
  }

  #connectHost(kind: HostKind): HostConnection {
    const host =
      kind === 'leader' ? connectLeaderHost(this.#tabId, this.#workerUrl) : connectSharedWorkerHost(this.#workerUrl);
    host.failed.catch((error: unknown) => {
      if (this.#host === host) this.#failPendingCalls(error);
    });
    host.onReplaced(() => {
      if (!this.#closed && this.#host === host) this.#startAttach(true);
    });
    return host;
  }

  /** (Re)attaches to the current host; after a host change, replays this tab's state into it. */
  #startAttach(replay: boolean): Promise<void> {
    this.#attached = false;
    // Calls in flight to a host that went away would never be answered: send them to the new one
    // (every HostApi call is idempotent for a tab — a publish keeps its client id).
    const inFlight = replay ? [...this.#pendingCalls] : [];
    const ready = this.#attach()
      .then(() => (replay ? this.#replay() : undefined))
      .then(() => {
        // Before any call made during the re-attach (those wait for `#ready`), in their first order.
        for (const call of inFlight) if (this.#pendingCalls.has(call)) call.send(true);
      });
    this.#ready = ready;
    ready.then(
      () => {
        if (this.#ready === ready) this.#attached = true;
      },
      () => undefined,
    );
    return ready;
  }

  async #attach(): Promise<void> {
    if (!this.#lockHeld) {
      this.#releaseLock = await holdTabLock(this.#lockName);
      this.#lockHeld = true;
    }
    let hello: HostHello;
    try {
      hello = await this.#attachOnce();
    } catch (error) {
      // With host: 'auto', a SharedWorker that fails to start or to answer gives way to a leader tab.
      if (this.#hostMode !== 'auto' || this.#host.kind !== 'shared-worker' || this.#closed) throw error;
      this.#host.close();
      this.#host = this.#connectHost('leader');
      hello = await this.#attachOnce();
    }
    if (this.#session && !hello.session) {
      // A new leader host that has not resumed the session yet: it is reconnecting, not ended.
      this.#setStatus('CONNECTING');
    } else {
      this.#session = hello.session;
      this.#setStatus(hello.status);
    }
    if (typeof document !== 'undefined' && !this.#onVisibility) {
      this.#onVisibility = () => {
        this.#host.api.setVisibility(this.#tabId, document.visibilityState === 'visible').catch(() => undefined);
      };
      document.addEventListener('visibilitychange', this.#onVisibility);
    }
  }

  #attachOnce(): Promise<HostHello> {
    const callbacks: TabCallbacks = { refreshToken: (refreshId) => this.#runRefreshHandler(refreshId) };
    // One-way traffic (events, changes, outcomes) comes on a plain port: no reply, no timer per message.
    const events = new MessageChannel();
    events.port1.onmessage = (message: MessageEvent<TabMessage>) => this.#onTabMessage(message.data);
    this.#eventsPort?.close();
    this.#eventsPort = events.port1;
    const visible = typeof document === 'undefined' || document.visibilityState === 'visible';
    const host = this.#host;
    const deadline =
      this.#hostMode === 'auto' && host.kind === 'shared-worker'
        ? SHARED_WORKER_ATTACH_TIMEOUT_MS
        : HOST_CALL_TIMEOUT_MS;
    return withDeadline(
      Promise.race([
        host.api.attach(
          {
            tabId: this.#tabId,
            lockName: this.#lockName,
            protocol: PROTOCOL_VERSION,
            buildId: LIBRARY_BUILD_ID,
            visible,
          },
          Comlink.proxy(callbacks),
          Comlink.transfer(events.port2, [events.port2]),
        ),
        host.failed,
      ]),
      deadline,
      'the session host',
    ).catch((error: unknown) => {
      throw error instanceof SessionError && error.code !== 'TIMEOUT'
        ? error
        : new HostUnavailableError(`the session host did not answer: ${String(error)}`, { cause: error });
    });
  }

  /** A new leader host took over: bring it this tab's session, refresh handler and subscriptions. */
  async #replay(): Promise<void> {
    const api = this.#host.api;
    if (this.#session && this.#latestToken) {
      const { autoConnect, refresh } = this.#intent ?? { autoConnect: true, refresh: undefined };
      const registration = refresh && this.#refreshHandlers.has(refresh.refreshId) ? refresh : undefined;
      await api
        .startSession(this.#tabId, {
          token: this.#latestToken,
          autoConnect,
          serverUrl: this.#serverUrl,
          ...(this.#schemaVersion !== undefined && { schemaVersion: this.#schemaVersion }),
          ...(registration && { refresh: registration }),
        })
        .catch(() => undefined); // its errors reach onSessionError like any other
    }
    for (const [subId, subscription] of this.#subscriptions) {
      const since = subscription.last;
      api
        .subscribe(this.#tabId, { subId, topic: subscription.topic, ...(since !== undefined && { since }) })
        .catch((error: unknown) => this.#failSubscription(subId, error));
    }
  }

  async #runRefreshHandler(refreshId: string): Promise<string | undefined> {
    const handler = this.#refreshHandlers.get(refreshId);
    if (!handler) throw new SessionError('INVALID_ARGUMENT', 'this refresh handler was stopped');
    const token = await handler();
    if (token === undefined || token === null) return undefined;
    if (typeof token !== 'string') throw new TypeError('refreshHandler must return a string token or undefined');
    return token;
  }

  #onTabMessage(message: TabMessage): void {
    if (this.#closed) return;
    switch (message.type) {
      case 'event':
        return this.#onHostEvent(message.event);
      case 'changes':
        return this.#onChanges(message.subId, message.changes);
      case 'subscription-error':
        return this.#failSubscription(message.subId, createSessionError(message.code, message.message));
      case 'publish-outcome':
        return this.#onPublishOutcome(message.clientId, message.outcome);
    }
  }

  #onChanges(subId: string, changes: TopicChange[]): void {
    const subscription = this.#subscriptions.get(subId);
    if (!subscription) return;
    for (const change of changes) {
      if (this.#subscriptions.get(subId) !== subscription) return; // unsubscribed by a callback
      subscription.last = change.seq;
      try {
        subscription.onChange(change);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  #failSubscription(subId: string, error: unknown): void {
    const subscription = this.#subscriptions.get(subId);
    if (!subscription) return;
    this.#subscriptions.delete(subId);
    const typed = error instanceof SessionError ? error : new SessionError('INTERNAL', String(error), { cause: error });
    if (subscription.onError) subscription.onError(typed);
    else
      console.warn(`[shared-session] subscription to "${subscription.topic}" failed: ${typed.code} ${typed.message}`);
  }

  #onPublishOutcome(clientId: string, outcome: PublishOutcome): void {
    const pending = this.#publishes.get(clientId);
    if (!pending) return;
    this.#publishes.delete(clientId);
    if (outcome.ok) pending.resolve({ seq: outcome.seq });
    else pending.reject(createSessionError(outcome.code, outcome.message));
  }

  #onHostEvent(event: HostEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'status':
        this.#setStatus(event.status);
        break;
      case 'session':
        // Any tab of a running session (`#session` set) replays it into a new leader host.
        this.#session = event.session;
        this.#emit(this.#sessionListeners, event.session);
        break;
      case 'session-error':
        this.#emit(this.#errorListeners, event.error);
        break;
      case 'update-available':
        this.#emit(this.#updateListeners, event.buildId);
        break;
      case 'token':
        this.#latestToken = event.token;
        break;
      case 'reload':
        globalThis.location?.reload();
        break;
    }
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#emit(this.#statusListeners, status);
  }

  #emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        // A throwing listener must not stop the others; surface it without breaking the host call.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Every call into the host: after attach, with a deadline, typed errors on failure. Deadlines are
   * enforced by one sweep timer over the pending calls rather than a timer per call: the RPC round
   * trip is the hot path (see bench/), and a host failure rejects every pending call at once.
   */
  #call<T>(fn: (api: Comlink.Remote<HostApi>, tabId: string) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SessionError('CLIENT_CLOSED', 'this SessionClient was closed'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let attempt = 0;
      const call: PendingCall = {
        startedAt: Date.now(),
        reject: (error) => {
          if (settled) return;
          settled = true;
          this.#pendingCalls.delete(call);
          reject(error);
        },
        send: (now = false) => {
          const mine = ++attempt;
          // Once attached, call at once: a resolved `#ready` would still cost a microtask hop.
          const sent =
            now || this.#attached
              ? fn(this.#host.api, this.#tabId)
              : this.#ready.then(() => fn(this.#host.api, this.#tabId));
          sent.then(
            (value) => {
              if (settled || mine !== attempt) return;
              settled = true;
              this.#pendingCalls.delete(call);
              resolve(value);
            },
            (error: unknown) => {
              if (mine === attempt) call.reject(error);
            },
          );
        },
      };
      this.#pendingCalls.add(call);
      call.send();
    });
  }

  /** Rejects calls past {@link HOST_CALL_TIMEOUT_MS} and reports the host as unresponsive. */
  #sweepCalls(): void {
    const now = Date.now();
    let expired = false;
    for (const call of this.#pendingCalls) {
      if (now - call.startedAt < HOST_CALL_TIMEOUT_MS) continue;
      this.#pendingCalls.delete(call);
      expired = true;
      call.reject(new HostUnavailableError(`the session host did not answer within ${HOST_CALL_TIMEOUT_MS} ms`));
    }
    if (expired) {
      this.#onHostUnresponsive(
        new HostUnavailableError(`the session host did not answer within ${HOST_CALL_TIMEOUT_MS} ms`),
      );
    }
  }

  /** The host failed to start: every pending call fails with its error. */
  #failPendingCalls(error: unknown): void {
    for (const call of this.#pendingCalls) call.reject(error);
    this.#pendingCalls.clear();
  }

  async #checkHealth(): Promise<void> {
    if (this.#closed || this.#checkingHealth || this.#recovering) return;
    this.#checkingHealth = true;
    try {
      await this.#ready;
      await withDeadline(this.#host.api.ping(), HOST_HEALTH_TIMEOUT_MS, 'the session host');
      this.#healthMisses = 0;
    } catch (error) {
      if (++this.#healthMisses < HOST_HEALTH_MAX_MISSES) return;
      this.#healthMisses = 0;
      this.#onHostUnresponsive(
        new HostUnavailableError(`the session host did not answer a health check within ${HOST_HEALTH_TIMEOUT_MS} ms`, {
          cause: error,
        }),
      );
    } finally {
      this.#checkingHealth = false;
    }
  }

  /** Reports an unresponsive host and, where possible, moves this tab to a leader-tab host. */
  #onHostUnresponsive(error: HostUnavailableError): void {
    if (this.#closed || this.#recovering) return;
    this.#emit(this.#hostUnavailableListeners, error);
    if (this.#hostMode !== 'auto' || this.#host.kind !== 'shared-worker') return;
    this.#recovering = true;
    // Detach from the silent worker: should it wake up, it sees no tab, closes its socket after the
    // grace and releases the socket-owner lock to the leader host.
    const silent = this.#host;
    silent.api
      .detach(this.#tabId)
      .catch(() => undefined)
      .finally(() => silent.close());
    this.#host = this.#connectHost('leader');
    this.#startAttach(true).finally(() => {
      this.#recovering = false;
    });
  }
}

function validateRefreshOptions(options: RefreshOptions | undefined): RefreshOptions | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError('"refreshOptions" must be an object');
  if (typeof options.refreshHandler !== 'function') {
    throw new TypeError('"refreshOptions.refreshHandler" must be a function');
  }
  if (options.interval !== undefined && !(Number.isFinite(options.interval) && options.interval > 0)) {
    throw new TypeError('"refreshOptions.interval" must be a positive number of milliseconds');
  }
  return options;
}
