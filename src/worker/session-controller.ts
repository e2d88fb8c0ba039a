import {
  NoActiveSessionError,
  SessionError,
  SessionRolesMismatchError,
  TokenExpiredError,
  UnauthorizedError,
} from '../errors/index.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type { ChangeMessage } from '../protocol/messages.js';
import type {
  ConnectionStatus,
  HostInspection,
  HostKind,
  RefreshRecord,
  SessionInfo,
  StartSessionRequest,
} from '../protocol/host-api.js';
import type { Clock } from '../shared/clock.js';
import { decodeTokenClaims, isExpired, sameRoles, type TokenClaims } from '../shared/token-claims.js';
import { ConnectionSupervisor } from './connection-supervisor.js';
import { HOST_HISTORY_ENTRIES, keepLast, type HostLog } from './host-log.js';
import type { ServerConnection, WebSocketFactory } from './server-connection.js';
import { hasSession, IDLE, nextPhase, statusOf, type SessionEvent, type SessionPhase } from './session-phase.js';
import { storedSessionOf, type SessionStore } from './session-store.js';
import type { AcquireOwnership } from './socket-owner-lock.js';
import type { AttachedTab, TabRegistry } from './tab-registry.js';
import {
  describeRefreshOutcome,
  refreshForStart,
  TokenRefresher,
  type RefreshOutcome,
  type StartRefresh,
} from './token-refresher.js';

/** The running session's identity and token, as the host holds it. */
export interface HostedSession {
  readonly id: string;
  readonly userId: string;
  readonly roles: string[];
  token: string;
  /** `exp` of the current token, epoch ms on the server's clock; `null` = never. */
  expiresAt: number | null;
  readonly serverUrl: string;
  readonly schemaVersion: number | undefined;
}

/** What the session's data plane (topics, outbox) hears of the session. */
export interface SessionDataHooks {
  /** The session's user changed (`undefined`: no session). */
  userChanged(userId: string | undefined): void;
  /** An authenticated socket is up. */
  connected(connection: ServerConnection): void;
  /** The authenticated socket went away. */
  disconnected(): void;
  /** A change arrived. */
  change(message: ChangeMessage): void;
}

/** How a {@link SessionController} is set up. */
export interface SessionControllerOptions {
  kind: HostKind;
  buildId: string;
  sessionStore: Promise<SessionStore>;
  persistToken: boolean;
  tabs: TabRegistry;
  log: HostLog;
  clock: Clock;
  data: SessionDataHooks;
  /** The tab-visible status changed. */
  statusChanged(status: ConnectionStatus): void;
  createSocket?: WebSocketFactory | undefined;
  acquireOwnership?: AcquireOwnership | undefined;
}

/**
 * The session's lifecycle: which session runs, its {@link SessionPhase} (every transition through
 * {@link nextPhase}, the effects of entering and leaving a phase applied in {@link #dispatch}), its
 * socket ({@link ConnectionSupervisor}) and its token ({@link TokenRefresher}). Implements the
 * session rules of spec §3–§4: join vs replace, never downgrading a token, typed refusals, one
 * error reaching every tab and stopping reconnects until a new token.
 */
export class SessionController {
  readonly #options: SessionControllerOptions;
  readonly #tabs: TabRegistry;
  readonly #log: HostLog;
  readonly #supervisor: ConnectionSupervisor;
  readonly #refresher: TokenRefresher;
  #phase: SessionPhase = IDLE;
  #session: HostedSession | undefined;
  #status: ConnectionStatus = 'UNINITIALIZED';
  readonly #refreshHistory: RefreshRecord[] = [];

  /** @param options - see {@link SessionControllerOptions} */
  constructor(options: SessionControllerOptions) {
    this.#options = options;
    this.#tabs = options.tabs;
    this.#log = options.log;
    const { data } = options;
    this.#supervisor = new ConnectionSupervisor({
      buildId: options.buildId,
      clock: options.clock,
      createSocket: options.createSocket,
      acquireOwnership: options.acquireOwnership,
      events: {
        status: () => this.#publishStatus(),
        connected: (connection) => {
          void this.#persist();
          this.track();
          data.connected(connection);
        },
        disconnected: () => data.disconnected(),
        change: (message) => data.change(message),
        sessionError: (type, message) => this.fail(type, message),
        ended: () => this.end('the server ended the session'),
        fenced: () => {
          this.#dispatch({ type: 'superseded' });
          this.#tabs.broadcast({ type: 'superseded' });
        },
        log: (line) => this.#log.write(line),
      },
    });
    this.#refresher = new TokenRefresher(
      {
        candidates: () => this.#tabs.refreshCandidates(),
        interval: () => this.#tabs.refreshInterval(),
        adopt: (token) => this.#adoptRefreshed(token),
        expired: () => this.#onLocalExpiry(),
        reported: (outcome, ms) => this.#onRefreshRound(outcome, ms),
      },
      options.clock,
    );
  }

  /** The status tabs see. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The running session, if any. */
  get session(): Readonly<HostedSession> | undefined {
    return this.#session;
  }

  /** Counters for `inspect()`. */
  stats(): { socketsOpened: number; refreshes: number; clockOffsetMs: number } {
    return {
      socketsOpened: this.#supervisor.socketsOpened,
      refreshes: this.#refresher.refreshes,
      clockOffsetMs: this.#supervisor.clockOffsetMs,
    };
  }

  /** The session's part of `inspect()`. */
  inspect(): Pick<HostInspection, 'session' | 'phase' | 'error' | 'nextRefreshAt' | 'closes' | 'refreshHistory'> {
    const phase = this.#phase;
    return {
      session: this.info(),
      phase: phase.name,
      error: phase.name === 'failed' || phase.name === 'refused' ? phase.error : undefined,
      nextRefreshAt: this.#refresher.nextRefreshAt,
      closes: this.#supervisor.closes,
      refreshHistory: [...this.#refreshHistory],
    };
  }

  /** What tabs learn of the session. */
  info(): SessionInfo | undefined {
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

  /** (Re)arms the refresher for the current token and the tabs' handlers (call when either changed). */
  track(restart = false): void {
    const session = this.#session;
    if (!session || this.#phase.name === 'failed' || this.#phase.name === 'superseded') return this.#refresher.stop();
    this.#refresher.track({ expiresAt: session.expiresAt, clockOffsetMs: this.#supervisor.clockOffsetMs }, restart);
  }

  /** A tab attached (a suspended session goes live again). */
  tabAttached(): void {
    this.#dispatch({ type: 'tab-attached' });
  }

  /** The last tab left and the grace passed (the socket closes until a tab attaches). */
  tabsGone(): void {
    this.#dispatch({ type: 'tabs-gone' });
  }

  /** A hint that the socket may be dead or the network back (see {@link ConnectionSupervisor.wake}). */
  wake(why: string): void {
    this.#supervisor.wake(why);
  }

  /** `connect()`: the app wants a socket now. */
  connect(): void {
    this.#require();
    this.#dispatch({ type: 'connect' });
    // Live already: a socket stopped by a non-session close (protocol) starts again, and one
    // waiting out a backoff dials now.
    if (this.#phase.name === 'live') this.#goLive();
    this.#supervisor.retryNow();
  }

  /** `disconnect()`: the app wants no socket. */
  disconnect(): void {
    this.#require();
    this.#dispatch({ type: 'disconnect' });
  }

  /** `startSession` from `tab`: starts, resumes, replaces or joins the session. */
  async start(tab: AttachedTab, request: StartSessionRequest): Promise<SessionInfo> {
    let claims: TokenClaims;
    try {
      claims = decodeTokenClaims(request.token);
    } catch (error) {
      if (!this.#session) this.#refuse('UNAUTHORIZED', (error as Error).message);
      throw error;
    }
    const current = this.#session;
    if (current && current.userId === claims.userId && sameRoles(current.roles, claims.roles)) {
      // Registered first so that the join's refresh (an expired token) may call it; removed if refused.
      if (request.refresh) this.#tabs.addRefresh(tab, request.refresh);
      try {
        await this.#join(tab, current, request, claims);
      } catch (error) {
        if (request.refresh) tab.refresh.delete(request.refresh.refreshId);
        this.track();
        throw error;
      }
      return this.#requireInfo();
    }
    if (current) this.end('another user started a session');

    const store = await this.#options.sessionStore;
    const stored = await store.loadSession();
    const resumes = stored?.userId === claims.userId && stored.serverUrl === request.serverUrl;
    if (resumes) this.#supervisor.clockOffsetMs = stored.clockOffsetMs;
    let token = request.token;
    let offline = false;
    if (isExpired(claims.expiresAt, this.#supervisor.serverNow())) {
      const refreshed = await this.#refreshExpiredStart(tab, request);
      if (refreshed === 'unreachable' && resumes) {
        // Offline-first: the handler could not reach its token endpoint. Resume the stored session
        // offline (cache served, publishes queued) and keep retrying the refresh until it answers.
        offline = true;
      } else if (refreshed === undefined || refreshed === 'unreachable') {
        throw this.#refuseExpiredStart(request.refresh !== undefined);
      } else {
        ({ token, claims } = refreshed);
      }
    }
    if (stored && !resumes) await store.deleteSession();
    // The start succeeded: only now does its refresh handler count (a refused start leaves none).
    if (request.refresh) this.#tabs.addRefresh(tab, request.refresh);
    const session: HostedSession = {
      id: resumes ? stored.id : crypto.randomUUID(),
      userId: claims.userId,
      roles: claims.roles,
      token,
      expiresAt: claims.expiresAt,
      serverUrl: request.serverUrl,
      schemaVersion: request.schemaVersion,
    };
    this.#session = session;
    this.#options.data.userChanged(session.userId);
    this.#log.write(`session ${resumes ? 'resumed' : 'started'} for ${session.userId}`);
    await this.#persist();
    this.#sessionChanged(session);
    this.track(true);
    this.#dispatch({ type: 'start', connect: request.autoConnect });
    if (offline) this.#dispatch({ type: 'token-unreachable' });
    return this.#requireInfo();
  }

  /** `updateSessionToken`: the same user's new token, on the live socket. */
  async update(token: string): Promise<SessionInfo> {
    const session = this.#require();
    const claims = decodeTokenClaims(token);
    this.#checkReplacement(session, claims, 'the new token');
    await this.#adopt(session, token, claims);
    // A session error stopped the socket: the app's new token is its way back.
    if (this.#phase.name === 'failed') this.#dispatch({ type: 'connect' });
    this.#dispatch({ type: 'token' });
    return this.#requireInfo();
  }

  /**
   * Ends the session for every tab: the server is told (`end`), timers stop, metadata is removed.
   *
   * @param why - for the debug log
   */
  end(why: string): void {
    if (!this.#session) return;
    this.#log.write(`session ended: ${why}`);
    this.#supervisor.stop(true);
    this.#refresher.stop();
    this.#tabs.clearRefresh();
    this.#session = undefined;
    this.#options.data.userChanged(undefined);
    void this.#options.sessionStore.then((store) => store.deleteSession());
    this.#dispatch({ type: 'end' });
    this.#sessionChanged(undefined);
  }

  /** A session error: socket closed, no reconnect or refresh until a new token, every tab told. */
  fail(type: SessionErrorType, message: string): void {
    if (!this.#session || this.#phase.name === 'failed') return;
    this.#log.write(`session error ${type}: ${message}`);
    this.#dispatch({ type: 'fail', error: type });
    this.#tabs.broadcast({ type: 'session-error', error: type, message });
  }

  /** A second `startSession` of the same user: join, upgrading the token only if it lives longer. */
  async #join(tab: AttachedTab, session: HostedSession, request: StartSessionRequest, claims: TokenClaims) {
    if (request.autoConnect) this.#dispatch({ type: 'connect' });
    let token = request.token;
    let usable = !isExpired(claims.expiresAt, this.#supervisor.serverNow());
    const stopped = this.#phase.name === 'failed' || this.#phase.name === 'awaiting-token';
    if (!usable && stopped) {
      // The session stopped (e.g. its token expired while offline) and this start brings an expired
      // token too: refresh first, exactly as a fresh start would.
      const refreshed = await this.#refreshExpiredStart(tab, request);
      if (refreshed === 'unreachable') return this.#dispatch({ type: 'token-unreachable' });
      if (!refreshed) throw this.#refuseExpiredStart(request.refresh !== undefined);
      ({ token, claims } = refreshed);
      usable = true;
    }
    const livesLonger =
      session.expiresAt !== null && (claims.expiresAt === null || claims.expiresAt > session.expiresAt);
    if (usable && (livesLonger || stopped)) {
      await this.#adopt(session, token, claims);
      this.#dispatch({ type: 'token' });
    }
    this.track();
  }

  /**
   * A replacement token must be the same user's, unexpired, with the same roles; other roles end
   * the session with ROLES_MISMATCH (spec §3).
   */
  #checkReplacement(session: HostedSession, claims: TokenClaims, what: string): void {
    if (claims.userId !== session.userId) {
      throw new SessionError('USER_MISMATCH', `${what} is for another user: call startSession(token) instead`);
    }
    if (isExpired(claims.expiresAt, this.#supervisor.serverNow())) throw new TokenExpiredError(`${what} has expired`);
    if (!sameRoles(claims.roles, session.roles)) {
      this.fail('ROLES_MISMATCH', `${what} carried other roles`);
      throw new SessionRolesMismatchError();
    }
  }

  /**
   * Makes `token` the session's token and, when connected, sends it on the live socket. Throws the
   * server's typed refusal; a token that could not be sent (disconnected) is used at the next hello.
   */
  async #adopt(session: HostedSession, token: string, claims: TokenClaims): Promise<void> {
    const connection = this.#supervisor.open;
    if (connection && this.#phase.name !== 'failed') {
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
    this.#sessionChanged(session);
    this.track();
  }

  /** A token from a background refresh: checked like an update, then adopted. */
  async #adoptRefreshed(token: string): Promise<'adopted' | 'stop'> {
    const session = this.#session;
    if (!session || this.#isStopped(session)) return 'stop';
    const claims = decodeTokenClaims(token);
    try {
      this.#checkReplacement(session, claims, 'the refreshed token');
    } catch (error) {
      if (error instanceof SessionRolesMismatchError) return 'stop'; // the session failed with it
      throw error;
    }
    await this.#adopt(session, token, claims);
    if (this.#isStopped(session)) return 'stop';
    this.#dispatch({ type: 'token' });
    return 'adopted';
  }

  /** Whether `session` is no longer the running one, or a session error stopped it. */
  #isStopped(session: HostedSession): boolean {
    return this.#session !== session || this.#phase.name === 'failed';
  }

  #onLocalExpiry(): void {
    const session = this.#session;
    if (!session || this.#phase.name === 'failed' || this.#phase.name === 'awaiting-token') return;
    if (!isExpired(session.expiresAt, this.#supervisor.serverNow())) return this.track();
    this.fail('TOKEN_EXPIRED', 'the token expired and no refreshHandler provided a new one');
  }

  #onRefreshRound(outcome: RefreshOutcome, ms: number): void {
    const line = describeRefreshOutcome(outcome, ms);
    if (line) this.#log.write(line);
    if (outcome.type !== 'stopped') {
      const record: RefreshRecord = {
        at: this.#options.clock.now(),
        outcome: outcome.type,
        durationMs: ms,
        failovers: outcome.type === 'no-token' ? 0 : outcome.failovers,
      };
      if (outcome.type !== 'failed') record.tabId = outcome.tabId;
      keepLast(this.#refreshHistory, record, HOST_HISTORY_ENTRIES);
    }
    // Resumed offline with an expired token, and the app has none: the session cannot go on.
    if (outcome.type === 'no-token' && this.#phase.name === 'awaiting-token') {
      this.fail('UNAUTHORIZED', 'the token had expired and no new one was given');
    }
  }

  /** `startSession` with an expired token and a handler: that tab's handler runs first. */
  #refreshExpiredStart(tab: AttachedTab, request: StartSessionRequest): Promise<StartRefresh> {
    const refreshId = request.refresh?.refreshId;
    const candidate =
      refreshId === undefined
        ? undefined
        : { tabId: tab.registration.tabId, call: (ms: number) => this.#tabs.callRefresh(tab, refreshId, ms) };
    return refreshForStart(candidate, this.#supervisor.serverNow());
  }

  /** A start with an expired token that no refresh replaced: UNAUTHORIZED in every tab, status CLOSED. */
  #refuseExpiredStart(hadHandler: boolean): UnauthorizedError {
    const message = hadHandler
      ? 'the token had expired and the refreshHandler returned no valid token'
      : 'the token had expired before the session started';
    if (!this.#session) this.#refuse('UNAUTHORIZED', message);
    return new UnauthorizedError(message);
  }

  /** A start that never produced a session: status CLOSED and the error reaches every tab. */
  #refuse(type: SessionErrorType, message: string): void {
    this.#log.write(`start refused: ${type} ${message}`);
    this.#dispatch({ type: 'refuse', error: type });
    this.#tabs.broadcast({ type: 'session-error', error: type, message });
  }

  /** Applies an event to the phase, then the effects of leaving and entering phases. */
  #dispatch(event: SessionEvent): void {
    const previous = this.#phase;
    const next = nextPhase(previous, event);
    if (next === previous) return;
    this.#phase = next;
    if (previous.name === 'live' && next.name !== 'live') this.#supervisor.stop();
    if (next.name === 'failed' || next.name === 'superseded' || !hasSession(next)) this.#refresher.stop();
    if (next.name === 'awaiting-token' && previous.name !== 'awaiting-token') {
      this.track(); // a failed session's refresher was stopped
      this.#refresher.retryLater();
    }
    if (next.name === 'live') this.#goLive();
    this.#publishStatus();
  }

  /** Live: the socket runs, unless the token expired (then refresh first, or fail). */
  #goLive(): void {
    const session = this.#session;
    if (!session || this.#supervisor.isRunningFor(session.serverUrl)) return;
    if (isExpired(session.expiresAt, this.#supervisor.serverNow())) {
      // Never dial with an expired token: refresh first (its token brings the socket), or end.
      if (this.#tabs.hasRefreshHandler()) void this.#refresher.refreshNow();
      else this.fail('TOKEN_EXPIRED', 'the token expired while disconnected');
      return;
    }
    this.#supervisor.start({
      serverUrl: session.serverUrl,
      sessionId: session.id,
      token: () => session.token,
      schemaVersion: session.schemaVersion,
    });
  }

  #publishStatus(): void {
    const status = statusOf(this.#phase, this.#supervisor.status);
    if (status === this.#status) return;
    this.#status = status;
    this.#options.statusChanged(status);
  }

  /** Every tab hears of the session; leader hosts also share the token (the next leader resumes with it). */
  #sessionChanged(session: HostedSession | undefined): void {
    this.#tabs.broadcast({ type: 'session', session: this.info() });
    if (session && this.#options.kind === 'leader') this.#tabs.broadcast({ type: 'token', token: session.token });
  }

  #require(): HostedSession {
    if (!this.#session) throw new NoActiveSessionError();
    return this.#session;
  }

  #requireInfo(): SessionInfo {
    const info = this.info();
    if (!info) throw new NoActiveSessionError();
    return info;
  }

  async #persist(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    const store = await this.#options.sessionStore;
    await store.saveSession(
      storedSessionOf(session, {
        clockOffsetMs: this.#supervisor.clockOffsetMs,
        buildId: this.#options.buildId,
        persistToken: this.#options.persistToken,
        now: this.#options.clock.now(),
      }),
    );
  }
}
