import type { Remote } from 'comlink';
import { SessionError } from '../errors/index.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import {
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  type ConnectionStatus,
  type HistoryPage,
  type HistoryRequest,
  type HostApi,
  type HostEvent,
  type HostHello,
  type HostInspection,
  type HostKind,
  type HostStats,
  type SessionInfo,
  type TabMessage,
  type TopicChange,
} from '../protocol/host-api.js';
import type { JsonValue } from '../protocol/messages.js';
import { validateTopicName } from '../protocol/topic-name.js';
import { Emitter } from '../shared/emitter.js';
import { registerErrorTransfer } from '../shared/error-transfer.js';
import { browserEnvironment } from './browser-environment.js';
import { HostRpc } from './host-rpc.js';
import { type HostEnvironment, type HostMode, HostSupervisor, type SupervisedTab } from './host-supervisor.js';
import { toSocketUrl } from './server-url.js';
import { type RefreshOptions, SessionIntent } from './session-intent.js';
import { TabTopics, type TrimmedGap } from './tab-topics.js';

export { HOST_CALL_TIMEOUT_MS } from './host-rpc.js';
export type { RefreshHandler, RefreshOptions } from './session-intent.js';

/** Options of {@link SessionClient.subscribe}. */
export interface SubscribeOptions {
  /** Deliver changes after this seq; default: from the start of what is retained. */
  since?: number;
  /** Called once if the subscription is refused (e.g. `FORBIDDEN`) or fails; no data follows. */
  onError?: (error: SessionError) => void;
  /**
   * Called when the server's retention dropped changes this subscription had not received yet
   * (`HISTORY_TRIMMED`): they will never arrive, and the subscription goes on from the oldest
   * retained change — never a silent gap. Without it a warning is printed.
   */
  onTrimmed?: (gap: TrimmedGap) => void;
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
  /** Where the session host runs. Default `'auto'` (the SharedWorker, else a leader tab). */
  host?: HostMode;
  /** URL of the host's worker script; default: the bundle shipped in the package. */
  workerUrl?: string | URL;
  /**
   * The host's log lines (connects, closes with code and reason, refreshes, failovers, handovers)
   * in this tab: `true` prints them with `console.debug`, a function receives each line. Tokens
   * never appear in them.
   */
  debug?: boolean | ((line: string) => void);
}

const HOST_MODES: readonly HostMode[] = ['auto', 'shared-worker', 'leader'];
const closedError = () => new SessionError('CLIENT_CLOSED', 'this SessionClient was closed');

/**
 * The session API of one tab. Every tab of the origin talks to the same host, which holds one
 * WebSocket to the server; this object is the tab's handle on it. Import from
 * `shared-session/page` (or `shared-session`). Construct it in the browser (in an effect, not during
 * server rendering): importing the module is safe anywhere, constructing it needs a browser.
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
  readonly #tabId = crypto.randomUUID();
  readonly #intent: SessionIntent;
  readonly #rpc: HostRpc<Remote<HostApi>>;
  readonly #topics: TabTopics;
  readonly #supervisor: HostSupervisor;
  readonly #statusChanged = new Emitter<ConnectionStatus>();
  readonly #sessionErrors = new Emitter<SessionErrorType>();
  readonly #sessionChanged = new Emitter<SessionInfo | undefined>();
  readonly #updatesAvailable = new Emitter<string>();
  readonly #hostUnavailable = new Emitter<SessionError>();
  #status: ConnectionStatus = 'UNINITIALIZED';
  #session: SessionInfo | undefined;
  #closed = false;
  readonly #debug: ((line: string) => void) | undefined;

  /**
   * @param options - see {@link SessionClientOptions}
   * @param environment - internal seam for unit tests (a fake clock and host); not part of the API
   * @throws TypeError for invalid options; {@link HostUnavailableError} outside a browser
   * @example
   * ```ts
   * const client = new SessionClient({ serverUrl: '/session', host: 'auto', schema: { version: 3 } });
   * ```
   */
  constructor(options: SessionClientOptions, environment?: HostEnvironment) {
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const serverUrl = toSocketUrl(options.serverUrl);
    if (options.schema !== undefined && !Number.isSafeInteger(options.schema?.version)) {
      throw new TypeError('"schema.version" must be an integer');
    }
    if (options.host !== undefined && !HOST_MODES.includes(options.host)) {
      throw new TypeError('"host" must be "auto", "shared-worker" or "leader"');
    }
    const refreshOptions = validateRefreshOptions(options.refreshOptions);
    if (options.debug !== undefined && typeof options.debug !== 'boolean' && typeof options.debug !== 'function') {
      throw new TypeError('"debug" must be a boolean or a function');
    }
    this.#debug =
      typeof options.debug === 'function'
        ? options.debug
        : options.debug
          ? (line) => console.debug(`[shared-session] ${line}`)
          : undefined;
    const env = environment ?? browserEnvironment(options.workerUrl);
    registerErrorTransfer();
    this.#intent = new SessionIntent(serverUrl, options.schema?.version);
    this.#rpc = new HostRpc(env.clock, (error) => this.#supervisor.reportUnresponsive(error));
    this.#topics = new TabTopics(this.#tabId, this.#rpc, env.clock);
    if (options.onSessionError) this.onSessionError(options.onSessionError);
    this.#supervisor = new HostSupervisor(options.host ?? 'auto', this.#supervisedTab(), this.#rpc, env);
    if (options.token !== undefined) {
      // Its errors reach onSessionError; a constructor cannot reject.
      void this.startSession(options.token, options.autoConnect ?? true, refreshOptions).catch(() => undefined);
    }
  }

  /**
   * This tab's id as the host knows it (`inspect().tabList`, the refresh history), for status
   * panels that mark "this tab".
   *
   * @example
   * ```ts
   * const mine = (await client.inspect()).tabList.find((tab) => tab.tabId === client.tabId);
   * ```
   */
  get tabId(): string {
    return this.#tabId;
  }

  /**
   * The host's connection status, as last reported to this tab.
   *
   * @example
   * ```ts
   * if (client.connectionStatus === 'OPEN') enableSend();
   * ```
   */
  get connectionStatus(): ConnectionStatus {
    return this.#status;
  }

  /**
   * Where this tab's host runs.
   *
   * @example
   * ```ts
   * console.log(client.hostKind); // 'shared-worker', or 'leader' where SharedWorker is missing
   * ```
   */
  get hostKind(): HostKind {
    return this.#supervisor.kind;
  }

  /**
   * Starts a session with `token`, or joins the running one when it is the same user (no new
   * socket). A token of another user ends the current session in every tab first.
   *
   * @param token - a JWT
   * @param autoConnect - open the socket now (default `true`); otherwise call {@link SessionClient.connect}
   * @param refreshOptions - a refresh handler for this session
   * @returns a function that stops the refresh this call set up
   * @throws {@link SessionError} `UNAUTHORIZED` for a value that is not a JWT or a token that had
   *   expired (and could not be refreshed); `CLIENT_CLOSED` after {@link SessionClient.close}
   * @example
   * ```ts
   * const stop = await client.startSession(token, true, { refreshHandler: () => fetchToken() });
   * stop(); // this tab's handler no longer refreshes the session
   * ```
   */
  async startSession(token: string, autoConnect = true, refreshOptions?: RefreshOptions): Promise<() => void> {
    if (typeof token !== 'string') throw new TypeError('"token" must be a string');
    if (typeof autoConnect !== 'boolean') throw new TypeError('"autoConnect" must be a boolean');
    const refresh = this.#intent.register(validateRefreshOptions(refreshOptions));
    let started: SessionInfo;
    try {
      const request = this.#intent.startRequest(token, autoConnect, refresh);
      started = await this.#rpc.call((api) => api.startSession(this.#tabId, request));
    } catch (error) {
      if (refresh) this.#intent.unregister(refresh.refreshId);
      throw error;
    }
    this.#intent.started(token, autoConnect, refresh);
    this.#session ??= started; // the `session` event may come after the answer
    return () => {
      if (!refresh || !this.#intent.unregister(refresh.refreshId)) return;
      // Refused once closed, or the host is gone: either way it forgets this tab's handlers with the tab.
      this.#rpc.call((api) => api.stopRefresh(this.#tabId, refresh.refreshId)).catch(() => undefined);
    };
  }

  /**
   * Replaces the session's token on the live socket (no reconnect).
   *
   * @param token - a JWT of the session's user
   * @throws `NoActiveSessionError`, `TokenExpiredError`, `SessionRolesMismatchError` (the session
   *   then ends with ROLES_MISMATCH in every tab), or `UNAUTHORIZED` for a value that is not a JWT
   * @example
   * ```ts
   * await client.updateSessionToken(await fetchToken());
   * ```
   */
  async updateSessionToken(token: string): Promise<void> {
    if (typeof token !== 'string') throw new TypeError('"token" must be a string');
    await this.#rpc.call((api) => api.updateSessionToken(this.#tabId, token));
    this.#intent.token = token;
  }

  /**
   * Ends the session in every tab: socket closed, refresh stopped, metadata removed. Data stays.
   *
   * @example
   * ```ts
   * await client.endSession(); // every tab's status becomes UNINITIALIZED
   * ```
   */
  async endSession(): Promise<void> {
    await this.#rpc.call((api) => api.endSession(this.#tabId));
  }

  /**
   * Wipes the local cache (IndexedDB data); the session keeps running.
   *
   * @example
   * ```ts
   * await client.clear();
   * ```
   */
  async clear(): Promise<void> {
    await this.#rpc.call((api) => api.clear(this.#tabId));
  }

  /**
   * Opens the session's socket (after `startSession(token, false)` or `disconnect()`).
   *
   * @example
   * ```ts
   * await client.startSession(token, false);
   * await client.connect();
   * ```
   */
  async connect(): Promise<void> {
    await this.#rpc.call((api) => api.connect(this.#tabId));
  }

  /**
   * Closes the session's socket for every tab without ending the session.
   *
   * @example
   * ```ts
   * await client.disconnect(); // status CLOSED in every tab; connect() opens it again
   * ```
   */
  async disconnect(): Promise<void> {
    await this.#rpc.call((api) => api.disconnect(this.#tabId));
  }

  /**
   * The running session, or `undefined`.
   *
   * @example
   * ```ts
   * const session = await client.getSession();
   * if (session) greet(session.userId);
   * ```
   */
  async getSession(): Promise<SessionInfo | undefined> {
    return this.#rpc.call((api) => api.getSession());
  }

  /**
   * Calls `callback` on every status change; with `runImmediately`, also now with the current one.
   *
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * const off = client.onConnectionStatusChange((status) => (badge.textContent = status), true);
   * ```
   */
  onConnectionStatusChange(callback: (status: ConnectionStatus) => void, runImmediately = false): () => void {
    const off = this.#statusChanged.on(callback);
    if (runImmediately) callback(this.#status);
    return off;
  }

  /**
   * Calls `callback` with every session error (`UNAUTHORIZED`, `SCHEMA_MISMATCH`,
   * `TOKEN_EXPIRED`, `ROLES_MISMATCH`), whichever tab caused it.
   *
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * client.onSessionError((type) => type === 'TOKEN_EXPIRED' && signIn());
   * ```
   */
  onSessionError(callback: (type: SessionErrorType) => void): () => void {
    return this.#sessionErrors.on(callback);
  }

  /**
   * Calls `callback` when the session starts, changes (token, tabs attached) or ends; with
   * `runImmediately`, also now with the session this tab knows.
   *
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * client.onSessionChange((session) => render(session?.userId ?? 'signed out'), true);
   * ```
   */
  onSessionChange(callback: (session: SessionInfo | undefined) => void, runImmediately = false): () => void {
    const off = this.#sessionChanged.on(callback);
    if (runImmediately) callback(this.#session);
    return off;
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
    checkTopic(topic);
    if (typeof onChange !== 'function') throw new TypeError('"onChange" must be a function');
    const { since, onError, onTrimmed } = options;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new TypeError('"since" must be a non-negative integer');
    }
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('"onError" must be a function');
    if (onTrimmed !== undefined && typeof onTrimmed !== 'function')
      throw new TypeError('"onTrimmed" must be a function');
    // After close() the host refuses it: `onError` hears CLIENT_CLOSED.
    return this.#topics.subscribe(topic, onChange, { since, onError, onTrimmed });
  }

  /**
   * Appends `data` to a topic. While offline or disconnected the message waits in the host's
   * outbox (IndexedDB) and is sent once the session is back; the server stores it exactly once.
   *
   * @param topic - topic name
   * @param data - any JSON value
   * @returns `{ seq }` once the server stored the change
   * @throws {@link SessionError} `FORBIDDEN`, `PAYLOAD_TOO_LARGE`, `INVALID_ARGUMENT`, `NO_ACTIVE_SESSION`
   * @example
   * ```ts
   * const { seq } = await client.publish('room:42', { text: 'hello' });
   * ```
   */
  async publish(topic: string, data: JsonValue): Promise<{ seq: number }> {
    checkTopic(topic);
    if (this.#closed) throw closedError();
    return this.#topics.publish(topic, data);
  }

  /**
   * Calls `callback` when a newer build of the app runs its own host beside this tab's (a deploy
   * left tabs of two builds open): reload this tab to move to it. Also see
   * `registerServiceWorker` for service-worker driven updates.
   *
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * client.onUpdateAvailable((buildId) => showBanner(`version ${buildId} is ready`, () => location.reload()));
   * ```
   */
  onUpdateAvailable(callback: (buildId: string) => void): () => void {
    return this.#updatesAvailable.on(callback);
  }

  /**
   * Calls `callback` when the host stops answering (a frozen or crashed worker). With
   * `host: 'auto'` the tab then moves to a leader-tab host by itself.
   *
   * @returns a function that unsubscribes
   * @example
   * ```ts
   * client.onHostUnavailable((error) => console.warn(error.code, error.message));
   * ```
   */
  onHostUnavailable(callback: (error: SessionError) => void): () => void {
    return this.#hostUnavailable.on(callback);
  }

  /**
   * Asks every tab of the app (through the host) to reload, e.g. into a new build.
   *
   * @example
   * ```ts
   * await client.reloadAllTabs();
   * ```
   */
  async reloadAllTabs(): Promise<void> {
    await this.#rpc.call((api) => api.reloadAllTabs());
  }

  /**
   * Measures one round trip to the host (page → host → page), in milliseconds, once attached.
   * Rejects with `HOST_UNAVAILABLE` when the host does not answer within the call deadline.
   *
   * @example
   * ```ts
   * console.log(`host round trip: ${(await client.pingHost()).toFixed(2)} ms`);
   * ```
   */
  async pingHost(): Promise<number> {
    await this.#rpc.ready();
    const started = performance.now();
    await this.#rpc.call((api) => api.ping());
    return performance.now() - started;
  }

  /**
   * Counters of the host (socket count, refreshes, tabs) for tests and status panels.
   *
   * @example
   * ```ts
   * const { socketsOpened, tabs } = await client.debugHostStats();
   * ```
   */
  async debugHostStats(): Promise<HostStats> {
    return this.#rpc.call((api) => api.inspect());
  }

  /**
   * Everything the host can tell about itself, in one call: host kind and build, attached tabs,
   * socket status and the last closes with code and reason, the session and its phase, token
   * expiry and the refresh history (which tab answered, how long it took, failovers), topics with
   * their cursors, the outbox, and the host's recent log lines. Never contains a token. This is
   * what `<shared-session-devtools>` shows.
   *
   * @example
   * ```ts
   * const { closes, refreshHistory, topicList } = await client.inspect();
   * console.table(closes); // [{ at, code: 1006, reason: '' }, …]
   * ```
   */
  async inspect(): Promise<HostInspection> {
    return this.#rpc.call((api) => api.inspect());
  }

  /**
   * Older changes of a topic, oldest first: the `limit` changes (default
   * {@link HISTORY_DEFAULT_LIMIT}, at most {@link HISTORY_MAX_LIMIT}) with seq < `before`
   * (default: the newest). Answered from the host's cache when it holds the range, else from the
   * server over the session's socket, permission-checked like `subscribe`. `hasMore` tells whether
   * older changes exist before `changes[0]`; page back with `before: changes[0].seq`.
   *
   * @param topic - topic name
   * @param options - `before` (a seq) and `limit`
   * @throws `TypeError` for bad arguments; {@link SessionError} `FORBIDDEN`, `DISCONNECTED` (no
   *   socket and nothing cached), `NO_ACTIVE_SESSION`
   * @example
   * ```ts
   * let page = await client.history('room:42', { limit: 20 });
   * while (page.hasMore) page = await client.history('room:42', { before: page.changes[0].seq, limit: 20 });
   * ```
   */
  async history(topic: string, options: { before?: number; limit?: number } = {}): Promise<HistoryPage> {
    checkTopic(topic);
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
    const { before, limit } = options;
    if (before !== undefined && !(Number.isSafeInteger(before) && before >= 1)) {
      throw new TypeError('"before" must be a positive integer');
    }
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1 && limit <= HISTORY_MAX_LIMIT)) {
      throw new TypeError(`"limit" must be an integer from 1 to ${HISTORY_MAX_LIMIT}`);
    }
    if (this.#closed) throw closedError();
    const request: HistoryRequest = { topic };
    if (before !== undefined) request.before = before;
    if (limit !== undefined) request.limit = limit;
    return this.#rpc.call((api) => api.history(this.#tabId, request));
  }

  /**
   * Detaches this tab from the host; the session goes on for the other tabs. Safe to call from a
   * React effect's cleanup (StrictMode mounts, unmounts and mounts again):
   *
   * - calls made **after** `close()` reject with `CLIENT_CLOSED`;
   * - calls made **before** settle with the host's real answer (bounded by the call deadline,
   *   {@link HOST_CALL_TIMEOUT_MS}; never left pending), and a `publish` made before still resolves
   *   with `{ seq }` once its outcome arrives, for at most that deadline after `close()` (then it
   *   rejects with `CLIENT_CLOSED`; the message stays in the outbox and is stored once);
   * - no listener of this client is called any more, and its refresh handlers are not asked again.
   *
   * The tab stays attached until those calls and publishes have settled, then detaches.
   * Calling `close()` again does nothing.
   *
   * @example
   * ```tsx
   * useEffect(() => {
   *   const client = new SessionClient({ serverUrl });
   *   client.startSession(token).catch(showError); // no CLIENT_CLOSED from StrictMode's unmount
   *   return () => client.close();
   * }, []);
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#intent.clear();
    for (const emitter of [
      this.#statusChanged,
      this.#sessionErrors,
      this.#sessionChanged,
      this.#updatesAvailable,
      this.#hostUnavailable,
    ]) {
      emitter.clear();
    }
    const drained = Promise.all([this.#rpc.close(closedError()), this.#topics.close()]);
    void this.#supervisor.close(drained); // settles once detached; never rejects
  }

  /** This tab as the host supervisor sees it. */
  #supervisedTab(): SupervisedTab {
    return {
      tabId: this.#tabId,
      lockName: `shared-session:tab:${this.#tabId}`,
      callbacks: { refreshToken: (refreshId) => this.#intent.runRefreshHandler(refreshId) },
      onMessage: (message) => this.#onTabMessage(message),
      onAttached: (hello) => this.#onAttached(hello),
      replay: (api) => this.#replay(api),
      onUnavailable: (error) => this.#hostUnavailable.emit(error),
    };
  }

  #onAttached(hello: HostHello): void {
    if (this.#session && !hello.session) {
      // A new leader host that has not resumed the session yet: it is reconnecting, not ended.
      this.#setStatus('CONNECTING');
    } else {
      const changed = JSON.stringify(this.#session) !== JSON.stringify(hello.session);
      this.#session = hello.session;
      if (changed) this.#sessionChanged.emit(hello.session);
      this.#setStatus(hello.status);
    }
  }

  /** A new leader host took over: bring it this tab's session, refresh handler and subscriptions. */
  async #replay(api: Remote<HostApi>): Promise<void> {
    // Any tab of a running session (`#session` set) replays it into a new leader host.
    if (this.#session) await this.#intent.replay(api, this.#tabId);
    this.#topics.replay(api);
  }

  #onTabMessage(message: TabMessage): void {
    // A closed tab still hears the outcomes of the publishes it made before close().
    if (message.type === 'event') {
      if (!this.#closed) this.#onHostEvent(message.event);
    } else if (!this.#closed || message.type === 'publish-outcome') {
      this.#topics.onMessage(message);
    }
  }

  #onHostEvent(event: HostEvent): void {
    switch (event.type) {
      case 'status':
        return this.#setStatus(event.status);
      case 'session':
        this.#session = event.session;
        return this.#sessionChanged.emit(event.session);
      case 'session-error':
        return this.#sessionErrors.emit(event.error);
      case 'update-available':
        return this.#updatesAvailable.emit(event.buildId);
      case 'token':
        this.#intent.token = event.token;
        return;
      case 'reload':
        return globalThis.location?.reload();
      case 'log':
        return this.#debug?.(`${new Date(event.at).toISOString().slice(11, 23)} ${event.line}`);
      case 'superseded':
        // This tab's host was fenced (another leader took over while it was frozen); the leader
        // connection follows the new leader and the supervisor re-attaches.
        return this.#debug?.('the host was superseded by a newer leader');
    }
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#statusChanged.emit(status);
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

/** The protocol's topic-name rule, checked before a call leaves the tab. */
function checkTopic(topic: unknown): asserts topic is string {
  const problem = validateTopicName(topic);
  if (problem !== undefined) throw new TypeError(problem);
}
