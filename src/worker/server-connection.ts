import { SessionError } from '../errors/index.js';
import { isFatalCloseCode } from '../protocol/close-codes.js';
import type { ClientMessage, HelloMessage, ServerMessage, WelcomeMessage } from '../protocol/messages.js';
import { parseServerMessage } from '../protocol/parse.js';
import { reconnectDelay } from '../shared/backoff.js';
import type { AcquireOwnership } from './socket-owner-lock.js';

/** Deadline for an answer to a request (`update-token`, `subscribe`, …). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Deadline for `welcome` after the socket opened. */
export const WELCOME_TIMEOUT_MS = 10_000;
/** How often the host probes an idle open socket with `ping`. */
export const PING_INTERVAL_MS = 15_000;
/** A socket whose `pong` is this late is considered dead and replaced. */
export const PONG_TIMEOUT_MS = 10_000;

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
}

/** The slice of the WebSocket constructor the connection needs (injectable for unit tests). */
export type WebSocketFactory = (url: string) => WebSocket;

/** A client frame that expects an answer, without its `id` (the connection assigns it). */
export type RequestBody =
  Extract<ClientMessage, { id: number }> extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface Pending {
  resolve(message: ServerMessage): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One logical connection to the server: opens a WebSocket, authenticates with `hello`, answers
 * requests by id, probes liveness, and reconnects with jittered exponential backoff until
 * {@link stop} or a fatal close. Owned by the session host; never more than one socket at a time.
 */
export class ServerConnection {
  readonly #url: string;
  readonly #hello: () => HelloMessage;
  readonly #events: ServerConnectionEvents;
  readonly #createSocket: WebSocketFactory;
  readonly #acquire: AcquireOwnership | undefined;
  #ownership: AbortController | undefined;
  #release: (() => void) | undefined;
  #socket: WebSocket | undefined;
  #open = false;
  #running = false;
  #attempt = 0;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #welcomeTimer: ReturnType<typeof setTimeout> | undefined;
  #lastPongAt = 0;
  #socketsOpened = 0;

  /**
   * @param url - ws(s) URL of the server
   * @param hello - builds the `hello` frame for each new socket (the token may have changed)
   * @param events - callbacks
   * @param createSocket - WebSocket factory
   * @param acquire - waits for the socket-owner lock before the first dial (none: dial at once)
   */
  constructor(
    url: string,
    hello: () => HelloMessage,
    events: ServerConnectionEvents,
    createSocket: WebSocketFactory = (u) => new WebSocket(u),
    acquire?: AcquireOwnership,
  ) {
    this.#url = url;
    this.#hello = hello;
    this.#events = events;
    this.#createSocket = createSocket;
    this.#acquire = acquire;
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

  /** Opens the socket unless it is already open or opening. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    if (!this.#acquire || this.#release) return this.#dial();
    this.#events.onConnecting();
    const ownership = new AbortController();
    this.#ownership = ownership;
    this.#acquire(ownership.signal).then(
      (release) => {
        if (!this.#running || ownership.signal.aborted) return release();
        this.#release = release;
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
    clearTimeout(this.#retryTimer);
    this.#ownership?.abort();
    const socket = this.#socket;
    if (socket && final && socket.readyState === SOCKET_OPEN) socket.send(JSON.stringify(final));
    this.#teardown(new SessionError('DISCONNECTED', 'the connection was closed'));
    if (socket && socket.readyState <= SOCKET_OPEN) socket.close(code, reason);
    this.#releaseOwnership();
  }

  #releaseOwnership(): void {
    this.#release?.();
    this.#release = undefined;
  }

  /**
   * Skips the backoff wait and dials now (the app called `connect()`, or the browser went online).
   * Does nothing when a socket is open or being opened.
   */
  retryNow(): void {
    if (!this.#running || this.#socket || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#dial();
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
    if (!this.#open || !this.#socket) {
      return Promise.reject(new SessionError('DISCONNECTED', 'not connected to the server'));
    }
    const id = this.#nextId++;
    const socket = this.#socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
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
    socket.onopen = () => {
      helloSentAt = Date.now();
      socket.send(JSON.stringify(this.#hello()));
      this.#welcomeTimer = setTimeout(() => socket.close(4008, 'no welcome'), WELCOME_TIMEOUT_MS);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return; // the protocol is text frames only
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) return; // a frame we cannot read is dropped; requests time out rather than hang
      const message = parsed.message;
      if (message.type === 'welcome') {
        clearTimeout(this.#welcomeTimer);
        const receivedAt = Date.now();
        this.#open = true;
        this.#attempt = 0;
        this.#lastPongAt = receivedAt;
        this.#startPings(socket);
        this.#events.onWelcome(message, message.serverTime - (helloSentAt + receivedAt) / 2);
        return;
      }
      if (message.type === 'pong') this.#lastPongAt = Date.now();
      const id = 'id' in message ? message.id : undefined;
      const pending = id === undefined ? undefined : this.#pending.get(id);
      if (pending && id !== undefined) {
        this.#pending.delete(id);
        clearTimeout(pending.timer);
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

  #startPings(socket: WebSocket): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastPongAt > PING_INTERVAL_MS + PONG_TIMEOUT_MS) {
        socket.close(4000, 'no pong'); // a half-open socket: replace it
        return;
      }
      if (socket.readyState === SOCKET_OPEN) socket.send(JSON.stringify({ type: 'ping', id: this.#nextId++ }));
    }, PING_INTERVAL_MS);
  }

  #teardown(error: SessionError): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#welcomeTimer);
    this.#open = false;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
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
    const delay = reconnectDelay(this.#attempt++);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#dial();
    }, delay);
  }
}
