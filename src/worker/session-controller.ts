import { createSessionError, NoActiveSessionError, SessionError } from '../errors/index.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type { ChangeMessage, HistoryTrimmedMessage } from '../protocol/messages.js';
import type { ConnectionStatus, HostInspection, HostKind, SessionInfo } from '../protocol/host-api.js';
import type { Clock } from '../shared/clock.js';
import { isExpired, rolesFromClaim, type TokenClaims } from '../shared/token-claims.js';
import { ConnectionSupervisor } from './connection-supervisor.js';
import { dialAhead, type DialAhead, type DialAheadRequest } from './dial-ahead.js';
import type { HostLog } from './host-log.js';
import type { ServerConnection, WebSocketFactory } from './server-connection.js';
import {
  hasSession,
  IDLE,
  nextPhase,
  statusOf,
  stopReason,
  type SessionEvent,
  type SessionPhase,
} from './session-phase.js';
import { PREVIOUS_TOKENS_KEPT, sessionInfoOf, type HostedSession } from './hosted-session.js';
import type { SessionPersistence } from './session-store.js';
import type { AcquireOwnership } from './socket-owner-lock.js';
import type { TabRegistry } from './tab-registry.js';
import { describeRefreshOutcome, TokenRefresher, type RefreshOutcome } from './token-refresher.js';
import { ServerIdentity } from './server-identity.js';

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
  /** The server trimmed changes a subscription still needed. */
  trimmed(message: HistoryTrimmedMessage): void;
}

/** How a {@link SessionController} is set up. */
export interface SessionControllerOptions {
  kind: HostKind;
  buildId: string;
  /** The session's record in IndexedDB. */
  persistence: SessionPersistence;
  tabs: TabRegistry;
  log: HostLog;
  clock: Clock;
  data: SessionDataHooks;
  /**
   * Adopts a token a background refresh produced, or says why the round must stop (the admission
   * rules, injected so that this module does not depend on them).
   */
  adoptRefreshed(session: SessionController, token: string): Promise<'adopted' | 'stop'>;
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
  readonly #supervisor: ConnectionSupervisor;
  readonly #refresher: TokenRefresher;
  #phase: SessionPhase = IDLE;
  #session: HostedSession | undefined;
  #status: ConnectionStatus = 'UNINITIALIZED';
  /** How the server judges tokens, and its word on the session's identity. */
  readonly identity: ServerIdentity;
  /** The tabs of this host. */
  readonly tabs: TabRegistry;
  /** The session's record in IndexedDB. */
  readonly persistence: SessionPersistence;

  /** @param options - see {@link SessionControllerOptions} */
  constructor(options: SessionControllerOptions) {
    this.#options = options;
    this.identity = new ServerIdentity(options.clock);
    this.tabs = options.tabs;
    this.persistence = options.persistence;
    const { data } = options;
    this.#supervisor = new ConnectionSupervisor({
      buildId: options.buildId,
      clock: options.clock,
      createSocket: options.createSocket,
      acquireOwnership: options.acquireOwnership,
      events: {
        status: () => this.#publishStatus(),
        connected: (connection, welcome) => {
          const learned = this.identity.learn(this.#session, welcome);
          if (learned?.newUser && this.#session) data.userChanged(this.#session.userId);
          if (learned) this.#sessionChanged(this.#session);
          void this.#persist();
          this.track();
          data.connected(connection);
        },
        disconnected: () => data.disconnected(),
        change: (message) => data.change(message),
        trimmed: (message) => data.trimmed(message),
        sessionError: (type, message) => {
          this.identity.refused(createSessionError(type, message));
          this.fail(type, message);
        },
        ended: () => this.end('the server ended the session'),
        fenced: () => {
          this.apply({ type: 'superseded' });
          this.#options.tabs.broadcast({ type: 'superseded' });
        },
        log: (line) => this.#options.log.write(line),
      },
    });
    this.#refresher = new TokenRefresher(
      {
        candidates: () => this.#options.tabs.refreshCandidates(),
        interval: () => this.#options.tabs.refreshInterval(),
        adopt: (token) => options.adoptRefreshed(this, token),
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

  /** The session's part of `inspect()`. */
  inspect(): Pick<
    HostInspection,
    | 'session'
    | 'phase'
    | 'error'
    | 'nextRefreshAt'
    | 'closes'
    | 'refreshHistory'
    | 'socketsOpened'
    | 'refreshes'
    | 'clockOffsetMs'
  > {
    const phase = this.#phase;
    return {
      socketsOpened: this.#supervisor.socketsOpened,
      refreshes: this.#refresher.refreshes,
      clockOffsetMs: this.#supervisor.clockOffsetMs,
      session: this.info(),
      phase: phase.name,
      error: phase.name === 'failed' || phase.name === 'refused' ? phase.error : undefined,
      nextRefreshAt: this.#refresher.nextRefreshAt,
      closes: this.#supervisor.closes,
      refreshHistory: this.#refresher.history,
    };
  }

  /** What tabs learn of the session. */
  info(): SessionInfo | undefined {
    return this.#session && sessionInfoOf(this.#session, this.#options.tabs.size);
  }

  /** (Re)arms the refresher for the current token and the tabs' handlers (call when either changed). */
  track(restart = false): void {
    const session = this.#session;
    if (!session || this.#phase.name === 'failed' || this.#phase.name === 'superseded') return this.#refresher.stop();
    this.#refresher.track({ expiresAt: session.expiresAt, clockOffsetMs: this.#supervisor.clockOffsetMs }, restart);
  }

  /** A tab attached (a suspended session goes live again). */
  tabAttached(): void {
    this.apply({ type: 'tab-attached' });
  }

  /** The last tab left and the grace passed (the socket closes until a tab attaches). */
  tabsGone(): void {
    this.apply({ type: 'tabs-gone' });
  }

  /** A hint that the socket may be dead or the network back (see {@link ConnectionSupervisor.wake}). */
  wake(why: string): void {
    this.#supervisor.wake(why);
  }

  /** `connect()`: the app wants a socket now. */
  connect(): void {
    this.requireSession();
    this.apply({ type: 'connect' });
    // Live already: a socket stopped by a non-session close (protocol) starts again, and one
    // waiting out a backoff dials now.
    if (this.#phase.name === 'live') this.#goLive();
    this.#supervisor.retryNow();
  }

  /** `disconnect()`: the app wants no socket. */
  disconnect(): void {
    this.requireSession();
    this.apply({ type: 'disconnect' });
  }

  /** The session's phase (read by the admission rules). */
  get phase(): SessionPhase {
    return this.#phase;
  }

  /** The server's clock, as far as the host knows it. */
  serverNow(): number {
    return this.#supervisor.serverNow();
  }

  /** Whether `session` is no longer the running one, or a session error stopped it. */
  isStopped(session: HostedSession): boolean {
    return this.#session !== session || this.#phase.name === 'failed';
  }

  /** Restores the clock offset of a stored session being resumed (until its first `welcome`). */
  restoreClockOffset(offsetMs: number): void {
    this.#supervisor.clockOffsetMs = offsetMs;
  }

  /**
   * Dials for a start before its session is decided (see {@link DialAhead}); `undefined` when a
   * session or a socket runs already, or this host was superseded.
   */
  dialAhead(request: DialAheadRequest): DialAhead | undefined {
    if (this.#session || this.#phase.name === 'superseded' || this.#supervisor.isRunningFor(request.serverUrl)) return;
    return dialAhead(this.#supervisor, request);
  }

  /**
   * Makes `session` the running one (the previous one ended first) and enters its first phase.
   * Its record is written to IndexedDB beside the dial, not in front of it.
   *
   * @param session - the new or resumed session
   * @param start - `connect`: the app wants a socket; `offline`: the token is expired and no new
   *   one could be fetched, so the session waits for one; `resumed`: for the log
   */
  async begin(session: HostedSession, start: { connect: boolean; offline: boolean; resumed: boolean }): Promise<void> {
    this.#session = session;
    // An opaque token's user is known from the server's welcome (see `ServerIdentity.learn`).
    if (session.userId !== '') this.#options.data.userChanged(session.userId);
    this.#options.log.write(`session ${start.resumed ? 'resumed' : 'started'} for ${session.userId}`);
    const persisted = this.#persist();
    this.#sessionChanged(session);
    this.track(true);
    this.apply({ type: 'start', connect: start.connect });
    if (start.offline) this.apply({ type: 'token-unreachable' });
    await persisted;
  }

  /**
   * Ends the session for every tab: the server is told (`end`), timers stop, metadata is removed.
   *
   * @param why - for the debug log
   */
  end(why: string): void {
    if (!this.#session) return;
    this.#options.log.write(`session ended: ${why}`);
    this.#supervisor.stop(true);
    this.#refresher.stop();
    this.#options.tabs.clearRefresh();
    this.#session = undefined;
    this.#options.data.userChanged(undefined);
    void this.#options.persistence.forget();
    this.apply({ type: 'end' });
    this.#sessionChanged(undefined);
  }

  /** A session error: socket closed, no reconnect or refresh until a new token, every tab told. */
  fail(type: SessionErrorType, message: string): void {
    if (!this.#session || this.#phase.name === 'failed') return;
    this.#options.log.write(`session error ${type}: ${message}`);
    this.apply({ type: 'fail', error: type });
    this.#options.tabs.broadcast({ type: 'session-error', error: type, message });
  }

  /**
   * Makes `token` the session's token and, when connected, sends it on the live socket. Throws the
   * server's typed refusal; a token that could not be sent (disconnected) is used at the next hello.
   */
  async adopt(session: HostedSession, token: string, claims: TokenClaims | undefined): Promise<void> {
    const connection = this.#supervisor.open;
    let answer: { expiresAt?: number | null; roles?: unknown } | undefined;
    if (connection && this.#phase.name !== 'failed') {
      try {
        const reply = await connection.request({ type: 'update-token', token });
        if (reply.type === 'token-updated') answer = reply;
      } catch (error) {
        const code = (error as SessionError).code;
        if (code !== 'DISCONNECTED' && code !== 'TIMEOUT') throw error;
      }
    }
    if (session.token !== token) {
      session.previousTokens = [...(session.previousTokens ?? []), session.token].slice(-PREVIOUS_TOKENS_KEPT);
    }
    session.token = token;
    // The server's answer is authoritative (custom claims, opaque tokens); else the token's own `exp`.
    session.expiresAt = answer?.expiresAt !== undefined ? answer.expiresAt : (claims?.expiresAt ?? session.expiresAt);
    if (answer?.roles !== undefined) session.roles = rolesFromClaim(answer.roles);
    await this.#persist();
    this.#sessionChanged(session);
    this.track();
  }

  #onLocalExpiry(): void {
    const session = this.#session;
    if (!session || this.#phase.name === 'failed' || this.#phase.name === 'awaiting-token') return;
    if (!isExpired(session.expiresAt, this.#supervisor.serverNow())) return this.track();
    this.fail('TOKEN_EXPIRED', 'the token expired and no refreshHandler provided a new one');
  }

  #onRefreshRound(outcome: RefreshOutcome, ms: number): void {
    const line = describeRefreshOutcome(outcome, ms);
    if (line) this.#options.log.write(line);
    // Resumed offline with an expired token, and the app has none: the session cannot go on.
    if (outcome.type === 'no-token' && this.#phase.name === 'awaiting-token') {
      this.fail('UNAUTHORIZED', 'the token had expired and no new one was given');
    }
  }

  /** A start that never produced a session: status CLOSED and the error reaches every tab. */
  refuse(type: SessionErrorType, message: string): void {
    this.#options.log.write(`start refused: ${type} ${message}`);
    this.apply({ type: 'refuse', error: type });
    this.#options.tabs.broadcast({ type: 'session-error', error: type, message });
  }

  /** Applies an event to the phase, then the effects of leaving and entering phases. */
  apply(event: SessionEvent): void {
    const previous = this.#phase;
    const next = nextPhase(previous, event);
    if (next === previous) return;
    this.#phase = next;
    if (previous.name === 'live' && next.name !== 'live') this.#supervisor.stop(false, stopReason(next));
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
      if (this.#options.tabs.hasRefreshHandler()) void this.#refresher.refreshNow();
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
    this.#options.tabs.broadcast({ type: 'session', session: this.info() });
    if (session && this.#options.kind === 'leader')
      this.#options.tabs.broadcast({ type: 'token', token: session.token });
  }

  /** The running session, or `NoActiveSessionError`. */
  requireSession(): HostedSession {
    if (!this.#session) throw new NoActiveSessionError();
    return this.#session;
  }

  /** {@link info}, or `NoActiveSessionError`. */
  requireInfo(): SessionInfo {
    const info = this.info();
    if (!info) throw new NoActiveSessionError();
    return info;
  }

  async #persist(): Promise<void> {
    const view = { rolesClaim: this.identity.rolesClaim };
    if (this.#session) await this.#options.persistence.save(this.#session, this.#supervisor.clockOffsetMs, view);
  }
}
