import { isSessionError, TokenExpiredError } from '../errors/index.js';
import { CloseCode } from '../protocol/close-codes.js';
import type { SessionErrorCode } from '../protocol/error-codes.js';
import type { ClientMessage, HelloMessage, ServerMessage, UpdateTokenMessage } from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/parse.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';
import { sameRoles } from '../shared/token-claims.js';
import type { TokenVerifier } from './auth.js';
import { closeReason } from './close-reason.js';
import { MAX_QUEUED_BYTES, MAX_QUEUED_FRAMES } from './constants.js';
import { ExpiryTimer } from './expiry-timer.js';
import { RateLimiter } from './rate-limit.js';
import { SerialQueue } from './serial-queue.js';
import type { SessionRegistry } from './session-registry.js';
import type { TopicHandler } from './topics.js';
import type { Logger, RateLimitOptions } from './types.js';

/** The part of a WebSocket a {@link Connection} uses; `ws`'s `WebSocket` satisfies it. */
export interface SocketLike {
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Bytes passed to `send` and not yet written to the network. */
  readonly bufferedAmount: number;
}

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly verifier: TokenVerifier;
  readonly registry: SessionRegistry;
  /** Served schema versions; `undefined` serves every version. */
  readonly schemaVersions: ReadonlySet<number> | undefined;
  readonly rateLimit: RateLimitOptions | false;
  readonly logger: Logger;
  /** The data plane: receives `subscribe`, `unsubscribe` and `publish`. */
  readonly topics: TopicHandler;
  /** The connection authenticated into its session. */
  opened(connection: Connection): void;
  /** The client ended `sessionId`: every connection of that session must close with 4005. */
  ended(sessionId: string): void;
  /** The socket closed (whatever its state). */
  closed(connection: Connection): void;
}

/** Where a connection is in its life. */
export type ConnectionState = 'awaiting-hello' | 'open' | 'closing' | 'closed';

/** Identity of an authenticated connection. */
export interface ConnectionSession {
  sessionId: string;
  userId: string;
  roles: string[];
  expiresAt: number | null;
}

/**
 * Standard close code 1013 "Try Again Later" (RFC 6455 registry): the server could not verify the
 * token right now (JWKS unreachable). Not a session error, so the host reconnects with backoff.
 */
export const TRY_AGAIN_LATER = 1013;

/**
 * One socket's state machine: waits for `hello`, authenticates, then serves `ping`, `update-token`
 * and `end` (and hands topic messages to the {@link TopicHandler}). Frames are processed one at a
 * time in arrival order, so a frame sent after `update-token` sees the new token. No method throws:
 * any failure ends as an `error` frame or a close with a code.
 */
export class Connection {
  readonly #socket: SocketLike;
  readonly #host: ConnectionHost;
  readonly #limiter: RateLimiter | undefined;
  readonly #expiry: ExpiryTimer;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #state: ConnectionState = 'awaiting-hello';
  #session: ConnectionSession | undefined;
  readonly #queue: SerialQueue;
  /** Set once the rate limiter called the sender abusive: later frames are dropped unread. */
  #flooding = false;

  /**
   * @param socket - the accepted socket
   * @param host - the owning server
   * @param helloTimeoutMs - time allowed for the first frame
   */
  constructor(socket: SocketLike, host: ConnectionHost, helloTimeoutMs: number) {
    this.#socket = socket;
    this.#host = host;
    this.#limiter = host.rateLimit ? new RateLimiter(host.rateLimit) : undefined;
    this.#queue = new SerialQueue({ maxTasks: MAX_QUEUED_FRAMES, maxBytes: MAX_QUEUED_BYTES }, (error) =>
      this.#fail(error),
    );
    this.#expiry = new ExpiryTimer(() => this.close(CloseCode.TOKEN_EXPIRED, 'token expired'));
    this.#helloTimer = setTimeout(() => this.close(CloseCode.HELLO_TIMEOUT, 'no hello in time'), helloTimeoutMs);
  }

  /** Current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The authenticated session, `undefined` before `welcome`. */
  get session(): Readonly<ConnectionSession> | undefined {
    return this.#session;
  }

  /**
   * Accepts one frame from the socket.
   *
   * @param data - the frame's text (empty for binary frames)
   * @param isBinary - whether it was a binary frame
   */
  receive(data: string, isBinary: boolean): void {
    if (this.#state === 'closing' || this.#state === 'closed' || this.#flooding) return;
    // The verdict is taken on arrival; its effect is queued so that answers keep the frames' order.
    const verdict = this.#limiter?.take(performance.now()) ?? 'ok';
    let task: () => void | Promise<void>;
    if (verdict === 'abuse') {
      this.#flooding = true;
      task = () => this.close(CloseCode.RATE_LIMITED, 'rate limit exceeded');
    } else if (verdict === 'limited') {
      task = () => {
        const parsed = isBinary ? undefined : parseClientMessage(data);
        const id = parsed === undefined ? undefined : parsed.ok ? messageId(parsed.message) : parsed.id;
        this.sendError(id, 'RATE_LIMITED', 'too many messages: slow down');
      };
    } else {
      task = () => this.#process(data, isBinary);
    }
    const queued = this.#queue.push(verdict === 'ok' ? data.length : 0, () =>
      this.#state === 'closing' || this.#state === 'closed' ? undefined : task(),
    );
    if (!queued) this.close(CloseCode.RATE_LIMITED, 'too many frames waiting');
  }

  /** Tells the connection its socket closed. Releases timers and the session binding. */
  handleClose(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearTimers();
    const session = this.#session;
    if (session !== undefined) {
      this.#guard(() => this.#host.topics.disconnected(this));
      this.#guard(() => this.#host.registry.detach(session.sessionId, Date.now()));
    }
    this.#host.closed(this);
  }

  /**
   * Closes the socket with a code and a short reason (truncated to 123 bytes). Later frames are
   * ignored.
   *
   * @param code - a close code, normally from `CloseCode`
   * @param reason - human-readable reason
   */
  close(code: number, reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'closing';
    this.#clearTimers();
    try {
      this.#socket.close(code, closeReason(reason));
    } catch (error) {
      this.#host.logger.error(`close failed: ${describe(error)}`);
    }
  }

  /**
   * Sends one message if the connection is still open for writing.
   *
   * @param message - a server message
   */
  send(message: ServerMessage): void {
    this.sendText(JSON.stringify(message));
  }

  /**
   * Sends a frame already serialised (a fan-out serialises a change once for every connection).
   *
   * @param text - the JSON text of one server message
   */
  sendText(text: string): void {
    if (this.#state === 'closed') return;
    try {
      this.#socket.send(text);
    } catch (error) {
      this.#host.logger.error(`send failed: ${describe(error)}`);
    }
  }

  /** Bytes sent but not yet written to the network: how far the client is behind. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /**
   * Sends an `error` frame.
   *
   * @param id - the request's id, when known
   * @param code - error code
   * @param message - lowercase, factual
   */
  sendError(id: number | undefined, code: SessionErrorCode, message: string): void {
    this.send(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
  }

  async #process(data: string, isBinary: boolean): Promise<void> {
    const parsed = isBinary ? undefined : parseClientMessage(data);
    if (this.#state === 'awaiting-hello') {
      if (parsed === undefined) return this.close(CloseCode.PROTOCOL_ERROR, 'binary frames are not supported');
      if (!parsed.ok) return this.close(CloseCode.PROTOCOL_ERROR, parsed.reason);
      if (parsed.message.type !== 'hello') return this.close(CloseCode.PROTOCOL_ERROR, 'first frame must be "hello"');
      return this.#hello(parsed.message);
    }
    if (parsed === undefined) return this.sendError(undefined, 'BAD_MESSAGE', 'binary frames are not supported');
    if (!parsed.ok) return this.sendError(parsed.id, 'BAD_MESSAGE', parsed.reason);
    return this.#dispatch(parsed.message);
  }

  async #dispatch(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'hello':
        return this.sendError(undefined, 'BAD_MESSAGE', '"hello" is only valid as the first frame');
      case 'ping':
        return this.send({ type: 'pong', id: message.id, serverTime: Date.now() });
      case 'update-token':
        return this.#updateToken(message);
      case 'end':
        return this.#end();
      case 'subscribe':
      case 'unsubscribe':
      case 'publish':
        return this.#host.topics.handle(this, message);
      default:
        return assertNever(message);
    }
  }

  async #hello(hello: HelloMessage): Promise<void> {
    this.#clearHelloTimer();
    const { logger } = this.#host;
    if (hello.protocol !== PROTOCOL_VERSION) {
      return this.close(
        CloseCode.UNSUPPORTED_PROTOCOL,
        `protocol ${hello.protocol} not supported (server speaks ${PROTOCOL_VERSION})`,
      );
    }
    let token;
    try {
      token = await this.#host.verifier.verify(hello.token);
    } catch (error) {
      const reason = isSessionError(error) ? error.message : 'token refused';
      logger.warn(`hello refused for session ${JSON.stringify(hello.sessionId)}: ${reason}`);
      if (isSessionError(error) && error.code === 'INTERNAL') {
        // The keys could not be fetched: not the token's fault, so not a fatal 4001.
        return this.close(TRY_AGAIN_LATER, `${reason}: try again later`);
      }
      return this.close(CloseCode.UNAUTHORIZED, reason);
    }
    if (this.#state !== 'awaiting-hello') return;
    const served = this.#host.schemaVersions;
    if (hello.schemaVersion !== undefined && served !== undefined && !served.has(hello.schemaVersion)) {
      return this.close(
        CloseCode.SCHEMA_MISMATCH,
        `schema version ${hello.schemaVersion} not served (serves ${[...served].join(', ')})`,
      );
    }
    const attached = await this.#host.registry.attach(hello.sessionId, token.userId, Date.now());
    if (attached === 'user-mismatch') {
      logger.warn(
        `session ${JSON.stringify(hello.sessionId)} refused for sub ${JSON.stringify(token.userId)}: owned by another user`,
      );
      return this.close(CloseCode.UNAUTHORIZED, 'session belongs to another user');
    }
    if (this.#state !== 'awaiting-hello') {
      // The socket closed while the registry answered: undo the binding handleClose() could not see.
      return this.#guard(() => this.#host.registry.detach(hello.sessionId, Date.now()));
    }
    this.#session = {
      sessionId: hello.sessionId,
      userId: token.userId,
      roles: token.roles,
      expiresAt: token.expiresAt,
    };
    this.#state = 'open';
    this.#host.opened(this);
    this.#armExpiry(token.expiresAt);
    this.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      sessionId: hello.sessionId,
      userId: token.userId,
      roles: token.roles,
      expiresAt: token.expiresAt,
      serverTime: Date.now(),
      resumed: attached === 'resumed',
    });
    logger.info(
      `session ${JSON.stringify(hello.sessionId)} ${attached} for sub ${JSON.stringify(token.userId)}` +
        (hello.buildId === undefined ? '' : ` (build ${JSON.stringify(hello.buildId.slice(0, 64))})`),
    );
  }

  async #updateToken(message: UpdateTokenMessage): Promise<void> {
    let token;
    try {
      token = await this.#host.verifier.verify(message.token);
    } catch (error) {
      const code =
        error instanceof TokenExpiredError
          ? 'TOKEN_EXPIRED'
          : isSessionError(error) && error.code === 'INTERNAL'
            ? 'INTERNAL'
            : 'UNAUTHORIZED';
      return this.sendError(message.id, code, isSessionError(error) ? error.message : 'token refused');
    }
    const session = this.#session;
    if (this.#state !== 'open' || session === undefined) return;
    if (token.userId !== session.userId) {
      return this.sendError(message.id, 'USER_MISMATCH', 'the token is for another user: start a new session');
    }
    if (!sameRoles(token.roles, session.roles)) {
      this.sendError(message.id, 'ROLES_MISMATCH', 'the token has other roles than the session');
      this.#host.logger.info(`session ${JSON.stringify(session.sessionId)} closed: roles changed`);
      return this.close(CloseCode.ROLES_MISMATCH, 'token roles differ from the session');
    }
    session.expiresAt = token.expiresAt;
    this.#armExpiry(token.expiresAt);
    this.send({ type: 'token-updated', id: message.id, expiresAt: token.expiresAt });
  }

  async #end(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    await this.#host.registry.forget(session.sessionId);
    this.#host.logger.info(
      `session ${JSON.stringify(session.sessionId)} ended by sub ${JSON.stringify(session.userId)}`,
    );
    this.#host.ended(session.sessionId);
    // ended() closes every connection of the session, this one included; this is a fallback.
    this.close(CloseCode.SESSION_ENDED, 'session ended');
  }

  #armExpiry(expiresAt: number | null): void {
    const toleranceMs = this.#host.verifier.clockToleranceSec * 1000;
    this.#expiry.arm(expiresAt === null ? null : expiresAt + toleranceMs);
  }

  #clearHelloTimer(): void {
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
  }

  #clearTimers(): void {
    this.#clearHelloTimer();
    this.#expiry.cancel();
  }

  /** An unexpected failure while processing a frame: never crash, never leave the client hanging. */
  #fail(error: unknown): void {
    this.#host.logger.error(`connection error: ${describe(error)}`);
    if (this.#state === 'awaiting-hello') this.close(1011, 'internal error');
    else this.sendError(undefined, 'INTERNAL', 'the server failed to process a frame');
  }

  /** Runs a registry call whose failure must not escape (close paths). */
  #guard(run: () => void | Promise<void>): void {
    try {
      const result = run();
      if (result instanceof Promise) result.catch((error: unknown) => this.#host.logger.error(describe(error)));
    } catch (error) {
      this.#host.logger.error(describe(error));
    }
  }
}

function messageId(message: ClientMessage): number | undefined {
  return 'id' in message ? message.id : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function assertNever(value: never): never {
  throw new Error(`unhandled message ${JSON.stringify(value)}`);
}
