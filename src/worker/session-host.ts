import * as Comlink from 'comlink';
import {
  NoActiveSessionError,
  SessionError,
  SessionRolesMismatchError,
  TokenExpiredError,
  UnauthorizedError,
} from '../errors/index.js';
import { CloseCode, sessionErrorForCloseCode } from '../protocol/close-codes.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type {
  ConnectionStatus,
  EventsPort,
  HostApi,
  HostHello,
  HostKind,
  HostStats,
  PublishRequest,
  SessionInfo,
  StartSessionRequest,
  SubscriptionRequest,
  TabCallbacks,
  TabMessage,
  TabRegistration,
} from '../protocol/host-api.js';
import type { HelloMessage } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { decodeTokenClaims, isExpired, sameRoles, type TokenClaims } from '../shared/token-claims.js';
import { ServerConnection, type WebSocketFactory } from './server-connection.js';
import { acquireSocketOwnership, type AcquireOwnership } from './socket-owner-lock.js';
import { Outbox } from './outbox.js';
import type { OutboxStore } from './outbox-store.js';
import type { SessionStore } from './session-store.js';
import type { TopicCacheStore } from './topic-cache-store.js';
import { TopicSubscriptions } from './topic-subscriptions.js';
import { TabRegistry, type AttachedTab } from './tab-registry.js';
import {
  localExpiry,
  MIN_REFRESH_GAP_MS,
  nextRefreshAt,
  REFRESH_CALL_TIMEOUT_MS,
  refreshRetryDelay,
} from './refresh-schedule.js';

/** After the last tab leaves, the host keeps the socket this long (a lone tab's reload keeps it). */
export const LAST_TAB_GRACE_MS = 3_000;

/** How a {@link SessionHost} is set up. */
export interface SessionHostOptions {
  /** Where the host runs, reported to tabs. */
  kind: HostKind;
  /** Build id of this host's code. */
  buildId: string;
  /** Persistence; resolved lazily so that attaching never waits for IndexedDB. */
  stores: HostStores;
  /** Keep the raw token in IndexedDB (off by default). */
  persistToken?: boolean;
  /** Grace after the last tab left; default {@link LAST_TAB_GRACE_MS}. */
  lastTabGraceMs?: number;
  /** WebSocket factory (unit tests). */
  createSocket?: WebSocketFactory;
  /** Socket-owner lock (default: the Web Lock `shared-session:socket-owner`). */
  acquireOwnership?: AcquireOwnership;
}

/** Where the host persists its state (IndexedDB, or memory when unavailable). */
export interface HostStores {
  session: Promise<SessionStore>;
  topics: Promise<TopicCacheStore>;
  outbox: Promise<OutboxStore>;
}

/** The running session as the host holds it. */
interface HostedSession {
  id: string;
  userId: string;
  roles: string[];
  token: string;
  /** `exp` of the current token, epoch ms on the server's clock; `null` = never. */
  expiresAt: number | null;
  serverUrl: string;
  schemaVersion: number | undefined;
  /** The app wants a socket (autoConnect/connect) and no fatal error stopped it. */
  wantConnected: boolean;
  /** Set after a session error; cleared by a new token. */
  fatal: SessionErrorType | undefined;
  /** The socket was closed because no tab was left; reopened when one attaches. */
  suspended: boolean;
  /** Resumed offline with an expired token: refreshing until a token arrives, no socket before. */
  awaitingToken: boolean;
  /** Local time of the last refresh or the start, for interval refreshes. */
  refreshedAt: number;
}

/**
 * The session host: owns the one WebSocket, the session's token and refresh schedule, and the
 * attached tabs. Runs in the SharedWorker (or a leader tab) and is exposed to every tab as
 * {@link HostApi} over comlink. Session-changing calls are serialised, so tabs racing to start
 * or end a session see one consistent order.
 */
export class SessionHost implements HostApi {
  readonly #options: SessionHostOptions;
  readonly #tabs: TabRegistry;
  #session: HostedSession | undefined;
  #status: ConnectionStatus = 'UNINITIALIZED';
  #connection: ServerConnection | undefined;
  #clockOffsetMs = 0;
  #socketsOpened = 0;
  #refreshes = 0;
  #refreshFailures = 0;
  #refreshing: Promise<void> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #topics: TopicSubscriptions;
  readonly #outbox: Outbox;
  #newerBuild: string | undefined;

  /** @param options - see {@link SessionHostOptions} */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    this.#tabs = new TabRegistry((tab) => this.#onTabGone(tab));
    this.#topics = new TopicSubscriptions(options.stores.topics, {
      deliver: (tabId, subId, changes) => this.#postToTab(tabId, { type: 'changes', subId, changes }),
      fail: (tabId, subId, code, message) =>
        this.#postToTab(tabId, { type: 'subscription-error', subId, code, message }),
    });
    this.#outbox = new Outbox(options.stores.outbox, (tabId, clientId, outcome) =>
      this.#postToTab(tabId, { type: 'publish-outcome', clientId, outcome }),
    );
    // Back online: reconnect at once instead of waiting out the backoff.
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.(
      'online',
      () => this.#connection?.retryNow(),
    );
  }

  // ── HostApi ────────────────────────────────────────────────────────────────────────────────

  async attach(registration: TabRegistration, callbacks: TabCallbacks, events: EventsPort): Promise<HostHello> {
    if (registration.protocol !== PROTOCOL_VERSION) {
      throw new SessionError(
        'PROTOCOL_MISMATCH',
        `this page speaks protocol ${registration.protocol}, the host ${PROTOCOL_VERSION}: reload the page`,
      );
    }
    if (typeof events?.postMessage !== 'function') {
      throw new SessionError('INVALID_ARGUMENT', 'attach needs an events port: update the page code');
    }
    this.#tabs.add(registration, callbacks as unknown as Comlink.Remote<TabCallbacks>, events);
    clearTimeout(this.#graceTimer);
    const session = this.#session;
    if (session?.suspended && session.wantConnected && !session.fatal) {
      session.suspended = false;
      this.#openConnection(session);
    }
    this.#broadcastSession();
    const tab = this.#tabs.get(registration.tabId)!;
    if (this.#newerBuild) {
      this.#tabs.post(tab, { type: 'event', event: { type: 'update-available', buildId: this.#newerBuild } });
    }
    if (this.#options.kind === 'leader' && session) {
      this.#tabs.post(tab, { type: 'event', event: { type: 'token', token: session.token } });
    }
    return {
      protocol: PROTOCOL_VERSION,
      buildId: this.#options.buildId,
      kind: this.#options.kind,
      status: this.#status,
      session: this.#info(),
    };
  }

  async detach(tabId: string): Promise<void> {
    this.#tabs.remove(tabId);
  }

  async setVisibility(tabId: string, visible: boolean): Promise<void> {
    const tab = this.#tabs.get(tabId);
    if (tab) tab.visible = visible;
  }

  startSession(tabId: string, request: StartSessionRequest): Promise<SessionInfo> {
    return this.#serial(() => this.#startSession(tabId, request));
  }

  async stopRefresh(tabId: string, refreshId: string): Promise<void> {
    this.#tabs.get(tabId)?.refresh.delete(refreshId);
    this.#scheduleRefresh();
  }

  updateSessionToken(_tabId: string, token: string): Promise<SessionInfo> {
    return this.#serial(() => this.#updateSessionToken(token));
  }

  endSession(_tabId: string): Promise<void> {
    return this.#serial(async () => this.#endSession());
  }

  async clear(_tabId: string): Promise<void> {
    await this.#topics.clear();
  }

  async subscribe(tabId: string, request: SubscriptionRequest): Promise<void> {
    await this.#settled(); // a user switch in progress must finish first: never another user's cache
    if (!this.#tabs.get(tabId)) throw new SessionError('HOST_UNAVAILABLE', 'this tab is not attached to the host');
    await this.#topics.add(tabId, request);
  }

  async unsubscribe(tabId: string, subId: string): Promise<void> {
    this.#topics.remove(tabId, subId);
  }

  async publish(tabId: string, request: PublishRequest): Promise<void> {
    await this.#settled();
    await this.#outbox.enqueue(tabId, request);
  }

  connect(_tabId: string): Promise<void> {
    return this.#serial(async () => {
      const session = this.#requireSession();
      session.wantConnected = true;
      if (session.fatal) return; // a session error stops reconnects until a new token arrives
      await this.#ensureUsableToken(session);
      this.#openConnection(session);
      this.#connection?.retryNow(); // waiting out a backoff: the app asked for a connection now
    });
  }

  disconnect(_tabId: string): Promise<void> {
    return this.#serial(async () => {
      const session = this.#requireSession();
      session.wantConnected = false;
      this.#closeConnection();
    });
  }

  async getSession(): Promise<SessionInfo | undefined> {
    return this.#info();
  }

  ping(): number {
    return Date.now();
  }

  async reloadAllTabs(): Promise<void> {
    this.#tabs.broadcast({ type: 'reload' });
  }

  /** Build id of this host. */
  get buildId(): string {
    return this.#options.buildId;
  }

  /** Another host of a newer build started (see `announceHost`): tell every tab. */
  notifyNewerBuild(buildId: string): void {
    this.#newerBuild = buildId;
    this.#tabs.broadcast({ type: 'update-available', buildId });
  }

  async inspect(): Promise<HostStats> {
    return {
      kind: this.#options.kind,
      buildId: this.#options.buildId,
      status: this.#status,
      tabs: this.#tabs.size,
      socketsOpened: this.#socketsOpened,
      refreshes: this.#refreshes,
      sessionId: this.#session?.id,
      clockOffsetMs: this.#clockOffsetMs,
      ...this.#topics.stats(),
      outbox: this.#outbox.size,
    };
  }

  // ── sessions ───────────────────────────────────────────────────────────────────────────────

  async #startSession(tabId: string, request: StartSessionRequest): Promise<SessionInfo> {
    const tab = this.#tabs.get(tabId);
    if (!tab) throw new SessionError('HOST_UNAVAILABLE', 'this tab is not attached to the host: reload the page');
    let claims: TokenClaims;
    try {
      claims = decodeTokenClaims(request.token);
    } catch (error) {
      if (!this.#session) this.#failStart('UNAUTHORIZED', (error as Error).message);
      throw error;
    }
    if (request.refresh) tab.refresh.set(request.refresh.refreshId, { ...request.refresh, registeredAt: Date.now() });

    const current = this.#session;
    if (current && current.userId === claims.userId && sameRoles(current.roles, claims.roles)) {
      await this.#joinSession(tab, current, request, claims);
      return this.#info() as SessionInfo;
    }
    if (current) this.#endSession();

    const store = await this.#options.stores.session;
    const stored = await store.loadSession();
    const resumes = stored?.userId === claims.userId && stored.serverUrl === request.serverUrl;
    let token = request.token;
    let awaitingToken = false;
    if (isExpired(claims.expiresAt, this.#serverNow())) {
      const refreshed = request.refresh ? await this.#refreshExpiredStart(tab, request.refresh.refreshId) : undefined;
      if (refreshed === 'unreachable' && resumes) {
        // Offline-first: the handler could not reach its token endpoint. Resume the stored session
        // offline (cache served, publishes queued) and keep retrying the refresh until it answers.
        awaitingToken = true;
      } else if (!refreshed || refreshed === 'unreachable') {
        throw this.#refuseExpiredStart(request.refresh !== undefined);
      } else {
        token = refreshed.token;
        claims = refreshed.claims;
      }
    }

    if (stored && !resumes) await store.deleteSession();
    if (resumes) this.#clockOffsetMs = stored.clockOffsetMs;
    const session: HostedSession = {
      id: resumes ? stored.id : crypto.randomUUID(),
      userId: claims.userId,
      roles: claims.roles,
      token,
      expiresAt: claims.expiresAt,
      serverUrl: request.serverUrl,
      schemaVersion: request.schemaVersion,
      wantConnected: request.autoConnect,
      fatal: undefined,
      suspended: false,
      awaitingToken,
      refreshedAt: Date.now(),
    };
    this.#session = session;
    this.#refreshFailures = 0;
    this.#topics.setUser(session.userId);
    this.#outbox.setUser(session.userId);
    await this.#persist();
    this.#broadcastSession();
    this.#shareToken(session);
    if (awaitingToken) {
      this.#resumeOffline(session);
    } else {
      if (request.autoConnect) this.#openConnection(session);
      this.#scheduleRefresh();
    }
    return this.#info() as SessionInfo;
  }

  /** A second `startSession` of the same user: join, upgrading the token only if it lives longer. */
  async #joinSession(
    tab: AttachedTab,
    session: HostedSession,
    request: StartSessionRequest,
    claims: TokenClaims,
  ): Promise<void> {
    if (request.autoConnect) session.wantConnected = true;
    let token = request.token;
    let usable = !isExpired(claims.expiresAt, this.#serverNow());
    const stopped = session.fatal !== undefined || session.awaitingToken;
    if (!usable && stopped) {
      // The session stopped (e.g. its token expired while offline) and this start brings an expired
      // token too: refresh first, exactly as a fresh start would.
      const refreshed = request.refresh ? await this.#refreshExpiredStart(tab, request.refresh.refreshId) : undefined;
      if (refreshed === 'unreachable') {
        this.#resumeOffline(session);
        return;
      }
      if (!refreshed) throw this.#refuseExpiredStart(request.refresh !== undefined);
      ({ token, claims } = refreshed);
      usable = true;
    }
    const livesLonger =
      session.expiresAt !== null && (claims.expiresAt === null || claims.expiresAt > session.expiresAt);
    if (usable && (livesLonger || stopped)) {
      session.fatal = undefined;
      session.awaitingToken = false;
      await this.#adoptToken(session, token, claims);
    }
    if (session.wantConnected && !session.awaitingToken) this.#openConnection(session);
    this.#scheduleRefresh();
  }

  /** Offline-first: keep the session (cache served, publishes queued) and retry the refresh until it answers. */
  #resumeOffline(session: HostedSession): void {
    session.fatal = undefined;
    session.awaitingToken = true;
    this.#setStatus('CLOSED');
    this.#scheduleRefresh(refreshRetryDelay(++this.#refreshFailures));
  }

  async #updateSessionToken(token: string): Promise<SessionInfo> {
    const session = this.#requireSession();
    const claims = decodeTokenClaims(token);
    if (claims.userId !== session.userId) {
      throw new SessionError('USER_MISMATCH', 'the new token is for another user: call startSession(token) instead');
    }
    if (isExpired(claims.expiresAt, this.#serverNow())) throw new TokenExpiredError('the new token has expired');
    if (!sameRoles(claims.roles, session.roles)) {
      this.#fail('ROLES_MISMATCH', 'a token update carried other roles');
      throw new SessionRolesMismatchError();
    }
    await this.#adoptToken(session, token, claims);
    session.awaitingToken = false;
    if (session.fatal) {
      session.fatal = undefined;
      session.wantConnected = true;
    }
    if (session.wantConnected) this.#openConnection(session);
    this.#scheduleRefresh();
    return this.#info() as SessionInfo;
  }

  /**
   * Makes `token` the session's token and, when connected, sends it on the live socket. Throws the
   * server's typed refusal; a token that could not be sent (disconnected) is used at the next hello.
   */
  async #adoptToken(session: HostedSession, token: string, claims: TokenClaims): Promise<void> {
    const connection = this.#connection;
    if (connection?.isOpen && !session.fatal) {
      try {
        await connection.request({ type: 'update-token', token });
      } catch (error) {
        const code = (error as SessionError).code;
        if (code !== 'DISCONNECTED' && code !== 'TIMEOUT') throw error;
      }
    }
    session.token = token;
    session.expiresAt = claims.expiresAt;
    await this.#persist();
    this.#broadcastSession();
    this.#shareToken(session);
  }

  #endSession(): void {
    if (!this.#session) return;
    this.#closeConnection({ type: 'end' });
    this.#clearTimers();
    for (const tab of this.#tabs.all()) tab.refresh.clear();
    this.#session = undefined;
    this.#topics.setUser(undefined);
    this.#outbox.setUser(undefined);
    void this.#options.stores.session.then((store) => store.deleteSession());
    this.#setStatus('UNINITIALIZED');
    this.#broadcastSession();
  }

  /** A start with an expired token that no refresh replaced: UNAUTHORIZED in every tab, status CLOSED. */
  #refuseExpiredStart(hadHandler: boolean): UnauthorizedError {
    const message = hadHandler
      ? 'the token had expired and the refreshHandler returned no valid token'
      : 'the token had expired before the session started';
    this.#failStart('UNAUTHORIZED', message);
    return new UnauthorizedError(message);
  }

  /** A start that never produced a session: status CLOSED and the error reaches every tab. */
  #failStart(type: SessionErrorType, message: string): void {
    this.#setStatus('CLOSED');
    this.#tabs.broadcast({ type: 'session-error', error: type, message });
  }

  /** A session error: socket closed, no reconnect or refresh until a new token, every tab told. */
  #fail(type: SessionErrorType, message: string): void {
    const session = this.#session;
    if (!session || session.fatal) return;
    session.fatal = type;
    this.#closeConnection();
    this.#clearTimers();
    this.#setStatus('CLOSED');
    this.#tabs.broadcast({ type: 'session-error', error: type, message });
  }

  // ── connection ─────────────────────────────────────────────────────────────────────────────

  #openConnection(session: HostedSession): void {
    if (this.#connection?.isRunning && this.#connection.url === session.serverUrl) return;
    this.#connection?.stop();
    if (isExpired(session.expiresAt, this.#serverNow())) {
      // Never dial with an expired token: refresh first (the refresh opens the socket), or end.
      if (this.#hasRefreshHandler()) void this.#refresh();
      else this.#fail('TOKEN_EXPIRED', 'the token expired while disconnected');
      return;
    }
    const hello = (): HelloMessage => ({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      token: session.token,
      sessionId: session.id,
      buildId: this.#options.buildId,
      ...(session.schemaVersion !== undefined && { schemaVersion: session.schemaVersion }),
    });
    const connection: ServerConnection = new ServerConnection(
      session.serverUrl,
      hello,
      {
        onConnecting: () => this.#setStatus('CONNECTING'),
        onDial: () => {
          this.#socketsOpened++;
          this.#setStatus('CONNECTING');
        },
        onWelcome: (_welcome, clockOffsetMs) => {
          this.#clockOffsetMs = clockOffsetMs;
          this.#setStatus('OPEN');
          void this.#persist();
          this.#scheduleRefresh();
          this.#topics.onConnected(connection);
          this.#outbox.onConnected(connection);
        },
        onMessage: (message) => {
          if (message.type === 'change') this.#topics.onChange(message);
        },
        onClose: (info) => {
          if (this.#connection !== connection) return;
          this.#topics.onDisconnected();
          this.#outbox.onDisconnected();
          const error = sessionErrorForCloseCode(info.code);
          if (error) return this.#fail(error, info.reason || `the server closed the session (${info.code})`);
          if (info.code === CloseCode.SESSION_ENDED) return this.#endSession();
          this.#setStatus('CLOSED');
        },
      },
      this.#options.createSocket,
      this.#options.acquireOwnership ?? acquireSocketOwnership,
    );
    this.#connection = connection;
    connection.start();
  }

  #closeConnection(final?: { type: 'end' }): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    this.#topics.onDisconnected();
    this.#outbox.onDisconnected();
    if (this.#status === 'OPEN' || this.#status === 'CONNECTING') this.#setStatus('CLOSING');
    connection.stop(1000, final ? 'session ended' : 'client closed', final);
    this.#setStatus(this.#session ? 'CLOSED' : 'UNINITIALIZED');
  }

  // ── refresh ────────────────────────────────────────────────────────────────────────────────

  #hasRefreshHandler(): boolean {
    return this.#tabs.all().some((tab) => tab.refresh.size > 0);
  }

  /** The interval of the most recent registration that set one. */
  #refreshInterval(): number | undefined {
    let latest: { interval?: number; registeredAt: number } | undefined;
    for (const tab of this.#tabs.all()) {
      for (const registration of tab.refresh.values()) {
        if (registration.interval !== undefined && (!latest || registration.registeredAt > latest.registeredAt)) {
          latest = registration;
        }
      }
    }
    return latest?.interval;
  }

  /** (Re)arms the refresh timer and the local expiry timer from the current token. */
  #scheduleRefresh(delayOverride?: number): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#expiryTimer);
    const session = this.#session;
    if (!session || session.fatal) return;
    const now = Date.now();
    const expiry = localExpiry(session.expiresAt, this.#clockOffsetMs);
    if (expiry !== null) {
      this.#expiryTimer = setTimeout(() => this.#onLocalExpiry(session), Math.max(0, expiry - now));
    }
    if (!this.#hasRefreshHandler()) return;
    const at =
      delayOverride !== undefined
        ? now + delayOverride
        : nextRefreshAt({
            expiresAt: session.expiresAt,
            clockOffsetMs: this.#clockOffsetMs,
            interval: this.#refreshInterval(),
            now,
            since: session.refreshedAt,
          });
    if (at === undefined) return;
    this.#refreshTimer = setTimeout(() => void this.#refresh(), at - now);
  }

  #onLocalExpiry(session: HostedSession): void {
    if (this.#session !== session || session.fatal || session.awaitingToken) return;
    if (!isExpired(session.expiresAt, this.#serverNow())) return this.#scheduleRefresh();
    this.#fail('TOKEN_EXPIRED', 'the token expired and no refreshHandler provided a new one');
  }

  /** Runs one refresh (single-flight): one tab's handler at a time, failing over in order. */
  #refresh(): Promise<void> {
    this.#refreshing ??= this.#runRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** @param serialised - true when already inside {@link SessionHost.#serial} (avoids waiting on itself) */
  async #runRefresh(serialised = false): Promise<void> {
    const session = this.#session;
    if (!session || session.fatal) return;
    for (const { tab, refreshId } of this.#refreshCandidates()) {
      let token: string | undefined;
      try {
        token = await this.#callRefreshHandler(tab, refreshId);
      } catch {
        continue; // threw, timed out, or the tab closed: the next tab's handler gets its turn
      }
      if (this.#session !== session || session.fatal) return;
      if (token === undefined) {
        // "No new token": the session ends at exp with TOKEN_EXPIRED (local and server timers).
        if (session.awaitingToken) this.#fail('UNAUTHORIZED', 'the token had expired and no new one was given');
        return;
      }
      try {
        const apply = () => this.#applyRefreshedToken(session, token);
        await (serialised ? apply() : this.#serial(apply));
      } catch (error) {
        if ((error as SessionError).code === 'ROLES_MISMATCH') return;
        continue;
      }
      this.#refreshes++;
      this.#refreshFailures = 0;
      session.refreshedAt = Date.now();
      session.awaitingToken = false;
      if (session.wantConnected && !this.#connection?.isRunning) this.#openConnection(session);
      const interval = this.#refreshInterval();
      const next = nextRefreshAt({
        expiresAt: session.expiresAt,
        clockOffsetMs: this.#clockOffsetMs,
        interval,
        now: Date.now(),
        since: session.refreshedAt,
      });
      // The gap guards against handlers returning short-lived tokens; an explicit interval is the app's choice.
      const gap = interval === undefined ? MIN_REFRESH_GAP_MS : 0;
      this.#scheduleRefresh(next === undefined ? undefined : Math.max(gap, next - Date.now()));
      return;
    }
    if (this.#session !== session || session.fatal) return;
    // Every handler failed: retry with backoff while the token is still valid.
    this.#scheduleRefresh(refreshRetryDelay(++this.#refreshFailures));
  }

  async #applyRefreshedToken(session: HostedSession, token: string): Promise<void> {
    if (this.#session !== session || session.fatal) return;
    const claims = decodeTokenClaims(token);
    if (claims.userId !== session.userId)
      throw new SessionError('USER_MISMATCH', 'refreshHandler returned another user');
    if (isExpired(claims.expiresAt, this.#serverNow()))
      throw new TokenExpiredError('refreshHandler returned an expired token');
    if (!sameRoles(claims.roles, session.roles)) {
      this.#fail('ROLES_MISMATCH', 'refreshHandler returned a token with other roles');
      throw new SessionRolesMismatchError();
    }
    await this.#adoptToken(session, token, claims);
  }

  /** Tabs with a refresh handler: visible tabs first, then the most recently registered. */
  #refreshCandidates(): { tab: AttachedTab; refreshId: string }[] {
    const candidates = this.#tabs
      .all()
      .filter((tab) => tab.refresh.size > 0)
      .map((tab) => {
        const latest = [...tab.refresh.values()].at(-1)!;
        return { tab, refreshId: latest.refreshId, registeredAt: latest.registeredAt };
      });
    candidates.sort((a, b) => Number(b.tab.visible) - Number(a.tab.visible) || b.registeredAt - a.registeredAt);
    return candidates;
  }

  #callRefreshHandler(tab: AttachedTab, refreshId: string): Promise<string | undefined> {
    const gone = new Promise<never>((_, reject) => {
      const signal = tab.stopWatching.signal;
      if (signal.aborted) reject(new SessionError('HOST_UNAVAILABLE', 'the tab closed'));
      signal.addEventListener('abort', () => reject(new SessionError('HOST_UNAVAILABLE', 'the tab closed')), {
        once: true,
      });
    });
    const call = Promise.race([tab.callbacks.refreshToken(refreshId), gone]);
    return this.#tabs.call(tab, () => call, REFRESH_CALL_TIMEOUT_MS, 'refreshHandler');
  }

  /** `startSession` with an expired token and a handler: that tab's handler runs first. */
  async #refreshExpiredStart(
    tab: AttachedTab,
    refreshId: string,
  ): Promise<{ token: string; claims: TokenClaims } | 'unreachable' | undefined> {
    let token: string | undefined;
    try {
      token = await this.#callRefreshHandler(tab, refreshId);
    } catch {
      return 'unreachable'; // threw or timed out: typically offline
    }
    if (token === undefined) return undefined;
    try {
      const claims = decodeTokenClaims(token);
      return isExpired(claims.expiresAt, this.#serverNow()) ? undefined : { token, claims };
    } catch {
      return undefined;
    }
  }

  /** Before connecting with an expired token, try one refresh. */
  async #ensureUsableToken(session: HostedSession): Promise<void> {
    if (!isExpired(session.expiresAt, this.#serverNow())) return;
    if (this.#hasRefreshHandler()) await this.#runRefresh(true);
    if (isExpired(session.expiresAt, this.#serverNow())) this.#fail('TOKEN_EXPIRED', 'the token has expired');
  }

  // ── tabs and fan-out ───────────────────────────────────────────────────────────────────────

  #onTabGone(tab: AttachedTab): void {
    tab.callbacks[Comlink.releaseProxy]();
    this.#topics.removeTab(tab.registration.tabId);
    this.#broadcastSession();
    if (this.#tabs.size > 0) return this.#scheduleRefresh();
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => {
      const session = this.#session;
      if (this.#tabs.size > 0 || !session || !this.#connection) return;
      session.suspended = true;
      this.#closeConnection();
    }, this.#options.lastTabGraceMs ?? LAST_TAB_GRACE_MS);
  }

  #postToTab(tabId: string, message: TabMessage): void {
    const tab = this.#tabs.get(tabId);
    if (tab) this.#tabs.post(tab, message);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#tabs.broadcast({ type: 'status', status });
  }

  /** Leader hosts die with their tab: every tab keeps the freshest token so the next leader can resume. */
  #shareToken(session: HostedSession): void {
    if (this.#options.kind === 'leader') this.#tabs.broadcast({ type: 'token', token: session.token });
  }

  #broadcastSession(): void {
    this.#tabs.broadcast({ type: 'session', session: this.#info() });
  }

  #info(): SessionInfo | undefined {
    const session = this.#session;
    if (!session) return undefined;
    return {
      id: session.id,
      userId: session.userId,
      roles: [...session.roles],
      expiresAt: session.expiresAt,
      tabs: this.#tabs.size,
    };
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────

  #requireSession(): HostedSession {
    if (!this.#session) throw new NoActiveSessionError();
    return this.#session;
  }

  /** The server's clock, as far as the host knows it. */
  #serverNow(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  #clearTimers(): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#expiryTimer);
    this.#refreshTimer = this.#expiryTimer = undefined;
  }

  async #persist(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    const store = await this.#options.stores.session;
    await store.saveSession({
      id: session.id,
      userId: session.userId,
      roles: session.roles,
      expiresAt: session.expiresAt,
      clockOffsetMs: this.#clockOffsetMs,
      buildId: this.#options.buildId,
      serverUrl: session.serverUrl,
      ...(this.#options.persistToken && { token: session.token }),
      updatedAt: Date.now(),
    });
  }

  /** Resolves once the session-changing operations queued so far are done. */
  #settled(): Promise<unknown> {
    return this.#queue;
  }

  /** Runs session-changing operations one at a time, in call order. */
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
