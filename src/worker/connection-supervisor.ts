import { CloseCode, sessionErrorForCloseCode } from '../protocol/close-codes.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type { CloseRecord, ConnectionStatus } from '../protocol/host-api.js';
import type { ChangeMessage, HelloMessage, HistoryTrimmedMessage, WelcomeMessage } from '../protocol/messages.js';
import { WIRE_PROTOCOL_VERSION } from '../protocol/version.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { ServerConnection, type WebSocketFactory } from './server-connection.js';
import { HOST_HISTORY_ENTRIES, keepLast } from './host-log.js';
import type { AcquireOwnership } from './socket-owner-lock.js';

/** What the supervisor needs to know to dial for the current session. */
export interface DialTarget {
  serverUrl: string;
  /**
   * A promise while the session is still being decided (its stored record loading from IndexedDB):
   * the socket opens meanwhile and `hello` goes once it resolves (a rejection abandons the socket).
   */
  sessionId: string | Promise<string>;
  /** Read at each dial: the token may have been refreshed since. */
  token(): string;
  schemaVersion: number | undefined;
}

/** What the supervisor reports to the session host. */
export interface SupervisorEvents {
  /** The socket's status changed. */
  status(status: ConnectionStatus): void;
  /** The server accepted `hello` on a new socket (topics and outbox may send now). */
  connected(connection: ServerConnection, welcome: WelcomeMessage): void;
  /** The authenticated socket went away (a reconnect may follow). */
  disconnected(): void;
  /** A change frame arrived. */
  change(message: ChangeMessage): void;
  /** The server trimmed changes a subscription still needed. */
  trimmed(message: HistoryTrimmedMessage): void;
  /** The server closed with a session error: no reconnect until a new token. */
  sessionError(type: SessionErrorType, message: string): void;
  /** The server ended the session (another tab's `endSession`, from another host). */
  ended(): void;
  /** Another host stole the socket-owner lock: this host must go quiet (fencing). */
  fenced(): void;
  /** A line for the host's debug log. */
  log(line: string): void;
}

/** How a {@link ConnectionSupervisor} is set up. */
export interface ConnectionSupervisorOptions {
  buildId: string;
  events: SupervisorEvents;
  createSocket?: WebSocketFactory | undefined;
  acquireOwnership?: AcquireOwnership | undefined;
  clock?: Clock | undefined;
}

/**
 * Runs the session's one socket while the session is live: dials with backoff (through
 * {@link ServerConnection}), reconnects at once when the browser comes back online or a tab wakes,
 * learns the server's clock offset at each `welcome`, and turns close codes into what they mean
 * for the session (a session error, the session ended elsewhere, or a retry).
 */
export class ConnectionSupervisor {
  readonly #options: ConnectionSupervisorOptions;
  readonly #clock: Clock;
  #connection: ServerConnection | undefined;
  #status: ConnectionStatus = 'UNINITIALIZED';
  #clockOffsetMs = 0;
  #socketsOpened = 0;
  readonly #closes: CloseRecord[] = [];
  readonly #onOnline = () => this.wake('the browser went online');

  /** @param options - see {@link ConnectionSupervisorOptions} */
  constructor(options: ConnectionSupervisorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const scope = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    scope.addEventListener?.('online', this.#onOnline);
  }

  /** The socket's status: `UNINITIALIZED` until the first dial of a session, `CLOSED` when stopped. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Whether a connection is running for `serverUrl` (connected, connecting or backing off). */
  isRunningFor(serverUrl: string): boolean {
    return this.#connection?.isRunning === true && this.#connection.url === serverUrl;
  }

  /** The authenticated connection, if `welcome` arrived on the current socket. */
  get open(): ServerConnection | undefined {
    return this.#connection?.isOpen ? this.#connection : undefined;
  }

  /** Server clock minus local clock, ms, from the last `welcome` (or as restored). */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  set clockOffsetMs(offset: number) {
    this.#clockOffsetMs = offset;
  }

  /** WebSockets created since the host started. */
  get socketsOpened(): number {
    return this.#socketsOpened;
  }

  /** The last closes, oldest first. */
  get closes(): CloseRecord[] {
    return [...this.#closes];
  }

  /** The server's clock, as far as the host knows it. */
  serverNow(): number {
    return this.#clock.now() + this.#clockOffsetMs;
  }

  /** Starts the socket for `target` unless one already runs for its server. */
  start(target: DialTarget): void {
    if (this.isRunningFor(target.serverUrl)) return;
    this.#connection?.stop();
    const helloFor = (sessionId: string): HelloMessage => ({
      type: 'hello',
      protocol: WIRE_PROTOCOL_VERSION,
      token: target.token(),
      sessionId,
      buildId: this.#options.buildId,
      ...(target.schemaVersion !== undefined && { schemaVersion: target.schemaVersion }),
    });
    const { sessionId } = target;
    const hello = () => (typeof sessionId === 'string' ? helloFor(sessionId) : sessionId.then(helloFor));
    const { events } = this.#options;
    const connection: ServerConnection = new ServerConnection({
      url: target.serverUrl,
      hello,
      clock: this.#clock,
      createSocket: this.#options.createSocket,
      acquireOwnership: this.#options.acquireOwnership,
      events: {
        onConnecting: () => this.#setStatus('CONNECTING'),
        onDial: () => {
          this.#socketsOpened++;
          this.#setStatus('CONNECTING');
          events.log(`dialing ${target.serverUrl}`);
        },
        onWelcome: (welcome, clockOffsetMs) => {
          this.#clockOffsetMs = clockOffsetMs;
          events.log(
            `open (session ${welcome.resumed ? 'resumed' : 'new'}, clock offset ${Math.round(clockOffsetMs)} ms)`,
          );
          this.#setStatus('OPEN');
          events.connected(connection, welcome);
        },
        onMessage: (message) => {
          if (message.type === 'change') events.change(message);
          else if (message.type === 'history-trimmed') events.trimmed(message);
        },
        onClose: (info) => {
          if (this.#connection !== connection) return;
          events.log(`closed ${info.code}${info.reason ? ` "${info.reason}"` : ''}`);
          keepLast(this.#closes, { at: this.#clock.now(), code: info.code, reason: info.reason }, HOST_HISTORY_ENTRIES);
          events.disconnected();
          this.#setStatus('CLOSED');
          const error = sessionErrorForCloseCode(info.code);
          if (error) return events.sessionError(error, info.reason || `the server closed the session (${info.code})`);
          if (info.code === CloseCode.SESSION_ENDED) return events.ended();
        },
        onFenced: () => {
          if (this.#connection !== connection) return;
          this.#connection = undefined;
          events.log('another host took the socket over: this host stops');
          events.disconnected();
          this.#setStatus('CLOSED');
          events.fenced();
        },
      },
    });
    this.#connection = connection;
    connection.start();
  }

  /**
   * Closes the socket for good; sends `{ type: 'end' }` first when the session ends (the status
   * then returns to `UNINITIALIZED` for the next session). A close of a running connection is kept
   * in {@link closes} with `why` as its reason, like the server's closes.
   *
   * @param ending - the session ends (the server forgets it)
   * @param why - why the host closes it (`disconnect()`, `session error TOKEN_EXPIRED`, …)
   */
  stop(ending = false, why = ending ? 'session ended' : 'client closed'): void {
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) {
      this.#options.events.disconnected();
      if (connection.isRunning) {
        this.#options.events.log(`closing: ${why}`);
        keepLast(this.#closes, { at: this.#clock.now(), code: 1000, reason: why }, HOST_HISTORY_ENTRIES);
      }
      connection.stop(1000, why.slice(0, 100), ending ? { type: 'end' } : undefined);
    }
    this.#setStatus(ending ? 'UNINITIALIZED' : connection ? 'CLOSED' : this.#status);
  }

  /**
   * Something suggests the network is back or the socket may be dead without knowing it (online,
   * a tab became visible or resumed after a freeze): dial now if waiting out a backoff, else probe.
   *
   * @param why - for the debug log
   */
  wake(why: string): void {
    const connection = this.#connection;
    if (!connection?.isRunning) return;
    this.#options.events.log(`wake: ${why}`);
    if (connection.isOpen) connection.probe();
    else connection.retryNow();
  }

  /** Dials now if waiting out a backoff (the app called `connect()`). */
  retryNow(): void {
    this.#connection?.retryNow();
  }

  /** Stops listening to the environment (tests; a host being replaced). */
  dispose(): void {
    this.stop();
    const scope = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    scope.removeEventListener?.('online', this.#onOnline);
  }

  #setStatus(status: ConnectionStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#options.events.status(status);
  }
}
