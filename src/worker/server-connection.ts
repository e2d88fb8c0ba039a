import { SessionError } from '../errors/index.js';
import { isFatalCloseCode } from '../protocol/close-codes.js';
import type {
  ClientMessage,
  HelloMessage,
  HistoryRequestMessage,
  ServerMessage,
  WelcomeMessage,
} from '../protocol/messages.js';
import { parseServerMessage } from '../protocol/parse.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { reconnectDelay } from './backoff.js';
import { releaseWhenClosed, type AcquireOwnership, type Ownership } from './socket-owner-lock.js';

/** Deadline for an answer to a request (`update-token`, `subscribe`, …). */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Deadline from creating a socket to `welcome`: a dial that hangs (a black-holed network, a proxy
 * that accepts and never answers) is abandoned and retried with backoff.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/** @deprecated Use {@link CONNECT_TIMEOUT_MS}; the welcome deadline now counts from the dial. */
export const WELCOME_TIMEOUT_MS = CONNECT_TIMEOUT_MS;
/**
 * A connection must stay open this long before the reconnect backoff starts again from its first
 * step: a server that welcomes and drops at once gets ever longer waits, not a reconnect every 125 ms.
 */
export const STABLE_CONNECTION_MS = 10_000;
/** How often the host probes an idle open socket with `ping`. */
export const PING_INTERVAL_MS = 15_000;
/** A socket whose `pong` is this late is considered dead and replaced. */
export const PONG_TIMEOUT_MS = 10_000;
/** Deadline of an on-demand liveness probe (after the device woke, the tab became visible, …). */
export const PROBE_TIMEOUT_MS = 5_000;

/** `WebSocket.OPEN`, spelled out so the module also runs where no global WebSocket exists (Node 20). */
const SOCKET_OPEN = 1;

/** Why the socket closed, as the session host needs to know it. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** A close after which the host must not reconnect on its own. */
  fatal: boolean;
}

/** What a {@link ServerConnection} reports to its owner. */
export interface ServerConnectionEvents {
  /** The connection started or a reconnect began (possibly waiting for socket ownership first). */
  onConnecting(): void;
  /** A WebSocket was created. */
  onDial(): void;
  /** The server accepted `hello`. `clockOffsetMs` is server clock minus local clock. */
  onWelcome(welcome: WelcomeMessage, clockOffsetMs: number): void;
  /** A frame that is not the answer to a request (`change`, unsolicited `error`). */
  onMessage(message: ServerMessage): void;
  /** The socket closed; unless `fatal` or {@link ServerConnection.stop} was called, a reconnect follows. */
  onClose(info: CloseInfo): void;
  /**
   * Another host took the socket-owner lock away (a new leader replaced this frozen one): the
   * connection stopped for good without sending anything more.
   */
  onFenced?(): void;
}

/** The slice of the WebSocket constructor the connection needs (injectable for unit tests). */
export type WebSocketFactory = (url: string) => WebSocket;

/** How a {@link ServerConnection} is set up. */
export interface ServerConnectionOptions {
  /** ws(s) URL of the server. */
  url: string;
  /**
   * Builds the `hello` frame for each new socket (the token may have changed). A promise when the
   * session is still being decided: the socket opens meanwhile and `hello` goes once it settles.
   */
  hello: () => HelloMessage | Promise<HelloMessage>;
  events: ServerConnectionEvents;
  /** WebSocket factory; default `new WebSocket(url)`. */
  createSocket?: WebSocketFactory | undefined;
  /** Waits for the socket-owner lock before the first dial; none: dial at once. */
  acquireOwnership?: AcquireOwnership | undefined;
  /** Time source; default the platform's. */
  clock?: Clock | undefined;
  /** Source of jitter in [0, 1); default `Math.random`. */
  random?: (() => number) | undefined;
}

/** A client frame that expects an answer, without its `id` (the connection assigns it). */
export type RequestBody =
  Extract<ClientMessage | HistoryRequestMessage, { id: number }> extends infer M
    ? M extends { id: number }
      ? Omit<M, 'id'>
      : never
    : never;

interface Pending {
  resolve(message: ServerMessage): void;
  reject(error: unknown): void;
  timer: TimerHandle;
}

/**
 * One logical connection to the server: opens a WebSocket, authenticates with `hello`, answers
 * requests by id, probes liveness, and reconnects with jittered exponential backoff until
 * {@link stop} or a fatal close. Owned by the session host; never more than one socket at a time.
 */
export class ServerConnection {
  readonly #url: string;
  readonly #hello: () => HelloMessage | Promise<HelloMessage>;
  readonly #events: ServerConnectionEvents;
  readonly #createSocket: WebSocketFactory;
  readonly #acquire: AcquireOwnership | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;
  #ownership: AbortController | undefined;
  #owned: Ownership | undefined;
  #socket: WebSocket | undefined;
  #open = false;
  #running = false;
  #attempt = 0;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #retryTimer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  #connectTimer: TimerHandle | undefined;
  #stableTimer: TimerHandle | undefined;
  #probeTimer: TimerHandle | undefined;
  #lastPongAt = 0;
  #socketsOpened = 0;

  /** @param options - see {@link ServerConnectionOptions} */
  constructor(options: ServerConnectionOptions) {
    this.#url = options.url;
    this.#hello = options.hello;
    this.#events = options.events;
    this.#createSocket = options.createSocket ?? ((u) => new WebSocket(u));
    this.#acquire = options.acquireOwnership;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  /** The server URL this connection dials. */
  get url(): string {
    return this.#url;
  }

  /** Whether `welcome` arrived on the current socket. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Whether the connection is started (connected, connecting, or waiting to reconnect). */
  get isRunning(): boolean {
    return this.#running;
  }

  /** Sockets opened since this connection was created. */
  get socketsOpened(): number {
    return this.#socketsOpened;
  }

  /** Failed attempts in a row (the backoff step of the next wait). */
  get attempt(): number {
    return this.#attempt;
  }

  /** Opens the socket unless it is already open or opening. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    if (!this.#acquire || this.#owned) return this.#dial();
    this.#events.onConnecting();
    const waiting = new AbortController();
    this.#ownership = waiting;
    this.#acquire(waiting.signal).then(
      (owned) => {
        if (!this.#running || waiting.signal.aborted) return owned.release();
        this.#owned = owned;
        void owned.lost.then(() => this.#onFenced(owned));
        this.#dial();
      },
      () => undefined, // aborted by stop()
    );
  }

  /**
   * Closes the socket for good (no reconnect). Sends `final` first when given and the socket is
   * open (e.g. `{ type: 'end' }`).
   */
  stop(code = 1000, reason = 'client closed', final?: ClientMessage): void {
    this.#running = false;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#ownership?.abort();
    const socket = this.#socket;
    if (socket && final && socket.readyState === SOCKET_OPEN) socket.send(JSON.stringify(final));
    this.#teardown(new SessionError('DISCONNECTED', 'the connection was closed'));
    if (!socket || socket.readyState > SOCKET_OPEN) return this.#releaseOwnership();
    socket.close(code, reason);
    if (this.#owned) releaseWhenClosed(this.#owned, socket, this.#clock);
    this.#owned = undefined;
  }

  /**
   * Skips the backoff wait and dials now (the app called `connect()`, the browser went online, a
   * tab became visible). Does nothing when a socket is open or being opened.
   */
  retryNow(): void {
    if (!this.#running || this.#socket || this.#retryTimer === undefined) return;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#dial();
  }

  /**
   * Checks an open socket now: sends `ping` and replaces the socket when no `pong` arrives within
   * {@link PROBE_TIMEOUT_MS}. For moments when a socket is likely dead without having noticed (the
   * device slept, the network changed, a frozen tab resumed).
   */
  probe(): void {
    const socket = this.#socket;
    if (!this.#open || !socket || this.#probeTimer !== undefined) return;
    const sentAt = this.#clock.now();
    socket.send(JSON.stringify({ type: 'ping', id: this.#nextId++ }));
    this.#probeTimer = this.#clock.setTimeout(() => {
      this.#probeTimer = undefined;
      if (socket === this.#socket && this.#lastPongAt < sentAt) socket.close(4000, 'no pong');
    }, PROBE_TIMEOUT_MS);
  }

  /** Sends a frame that expects no answer. Returns false when no authenticated socket is open. */
  send(message: ClientMessage): boolean {
    if (!this.#open || !this.#socket) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /**
   * Sends a request and resolves with its answer (an `error` answer rejects with a
   * {@link SessionError} of that code). Rejects with `DISCONNECTED` when no socket is open or it
   * closes first, and `TIMEOUT` after {@link REQUEST_TIMEOUT_MS}.
   */
  request(message: RequestBody): Promise<ServerMessage> {
    const socket = this.#socket;
    if (!this.#open || !socket) {
      return Promise.reject(new SessionError('DISCONNECTED', 'not connected to the server'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new SessionError('TIMEOUT', `the server did not answer "${message.type}" within ${REQUEST_TIMEOUT_MS} ms`),
        );
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...message, id }));
    });
  }

  #dial(): void {
    this.#events.onConnecting();
    let socket: WebSocket;
    try {
      socket = this.#createSocket(this.#url);
    } catch (cause) {
      // An invalid URL fails synchronously; report it like a failed attempt so that backoff applies.
      this.#onSocketClosed(undefined, { code: 1006, reason: String(cause), fatal: false });
      return;
    }
    this.#socket = socket;
    this.#socketsOpened++;
    this.#events.onDial();
    let helloSentAt = 0;
    this.#connectTimer = this.#clock.setTimeout(() => {
      // No welcome in time: give up on this socket; its close event schedules the next attempt.
      if (socket === this.#socket) this.#abandon(socket, 'no welcome in time');
    }, CONNECT_TIMEOUT_MS);
    const sendHello = (hello: HelloMessage) => {
      if (socket !== this.#socket || socket.readyState !== SOCKET_OPEN) return; // replaced or closed meanwhile
      helloSentAt = this.#clock.now();
      socket.send(JSON.stringify(hello));
    };
    socket.onopen = () => {
      const hello = this.#hello();
      if (!(hello instanceof Promise)) return sendHello(hello);
      hello.then(sendHello, () => {
        if (socket === this.#socket) this.#abandon(socket, 'no hello');
      });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return; // the protocol is text frames only
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) return; // a frame we cannot read is dropped; requests time out rather than hang
      const message = parsed.message;
      if (message.type === 'welcome') return this.#onWelcome(socket, message, helloSentAt);
      if (message.type === 'pong') this.#lastPongAt = this.#clock.now();
      const id = 'id' in message ? message.id : undefined;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (pending && id !== undefined) {
        this.#pending.delete(id);
        this.#clock.clearTimeout(pending.timer);
        if (message.type === 'error') pending.reject(new SessionError(message.code, message.message));
        else pending.resolve(message);
        return;
      }
      if (message.type !== 'pong') this.#events.onMessage(message);
    };
    socket.onclose = (event: CloseEvent) => {
      this.#onSocketClosed(socket, { code: event.code, reason: event.reason, fatal: isFatalCloseCode(event.code) });
    };
    socket.onerror = () => {
      // An error is always followed by a close event; nothing to do here.
    };
  }

  #onWelcome(socket: WebSocket, welcome: WelcomeMessage, helloSentAt: number): void {
    this.#clock.clearTimeout(this.#connectTimer);
    const receivedAt = this.#clock.now();
    this.#open = true;
    this.#lastPongAt = receivedAt;
    // The backoff starts over only once this connection has proved stable.
    this.#stableTimer = this.#clock.setTimeout(() => {
      if (socket === this.#socket) this.#attempt = 0;
    }, STABLE_CONNECTION_MS);
    this.#schedulePing(socket);
    this.#events.onWelcome(welcome, welcome.serverTime - (helloSentAt + receivedAt) / 2);
  }

  /**
   * Pings an open socket every {@link PING_INTERVAL_MS}; one whose last `pong` is older than
   * {@link PING_INTERVAL_MS} + {@link PONG_TIMEOUT_MS} is replaced. Timers are late after the
   * device slept, so the first tick after waking notices a dead socket.
   */
  #schedulePing(socket: WebSocket): void {
    this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = this.#clock.setTimeout(() => {
      if (socket !== this.#socket) return;
      if (this.#clock.now() - this.#lastPongAt > PING_INTERVAL_MS + PONG_TIMEOUT_MS) {
        return this.#abandon(socket, 'no pong'); // a half-open socket: replace it
      }
      if (socket.readyState === SOCKET_OPEN) socket.send(JSON.stringify({ type: 'ping', id: this.#nextId++ }));
      this.#schedulePing(socket);
    }, PING_INTERVAL_MS);
  }

  /**
   * Gives up on a socket that stopped answering. A dead network may never deliver the close
   * handshake, so the close is reported at once rather than when the browser times it out.
   */
  #abandon(socket: WebSocket, reason: string): void {
    if (socket.readyState <= SOCKET_OPEN) socket.close(4000, reason);
    this.#onSocketClosed(socket, { code: 4000, reason, fatal: false });
  }

  #teardown(error: SessionError): void {
    for (const timer of [this.#pingTimer, this.#connectTimer, this.#stableTimer, this.#probeTimer]) {
      this.#clock.clearTimeout(timer);
    }
    this.#pingTimer = this.#connectTimer = this.#stableTimer = this.#probeTimer = undefined;
    this.#open = false;
    for (const pending of this.#pending.values()) {
      this.#clock.clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    if (this.#socket) {
      this.#socket.onopen = this.#socket.onmessage = this.#socket.onclose = null;
      this.#socket = undefined;
    }
  }

  #onSocketClosed(socket: WebSocket | undefined, info: CloseInfo): void {
    if (socket !== this.#socket) return;
    this.#teardown(new SessionError('DISCONNECTED', `the connection closed (${info.code})`));
    this.#events.onClose(info);
    if (!this.#running) return this.#releaseOwnership();
    if (info.fatal) {
      this.#running = false;
      this.#releaseOwnership();
      return;
    }
    const delay = reconnectDelay(this.#attempt++, this.#random);
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#dial();
    }, delay);
  }

  #releaseOwnership(): void {
    this.#owned?.release();
    this.#owned = undefined;
  }

  /** The lock was stolen: stop without a word on the socket (another host speaks for the session now). */
  #onFenced(owned: Ownership): void {
    if (this.#owned !== owned) return;
    this.#owned = undefined;
    const socket = this.#socket;
    this.#running = false;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#teardown(new SessionError('DISCONNECTED', 'another host took over the session'));
    if (socket && socket.readyState <= SOCKET_OPEN) socket.close(1000, 'superseded');
    this.#events.onFenced?.();
  }
}
