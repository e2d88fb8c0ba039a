import { CloseCode } from '../../protocol/close-codes.js';
import type { SessionErrorCode } from '../../protocol/error-codes.js';
import type { ClientMessage, HelloMessage, ServerMessage, UpdateTokenMessage } from '../../protocol/messages.js';
import { parseClientMessage } from '../../protocol/parse.js';
import { MAX_QUEUED_BYTES, MAX_QUEUED_FRAMES } from '../constants.js';
import { describeError, type Logger } from '../logger.js';
import type { TopicMessage, TopicPeer } from '../topics/peer.js';
import { InboundFrames, type RateLimitOptions } from '../transport/flow-control.js';
import { closeReason, type SocketLike } from '../transport/socket.js';
import { ExpiryTimer } from './expiry-timer.js';
import {
  helloRefusal,
  INTERNAL_ERROR,
  negotiateProtocol,
  schemaRefusal,
  updateIdentityRefusal,
  updateVerificationRefusal,
} from './handshake.js';
import type { SessionRegistry } from './registry.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

/**
 * The data plane as a connection sees it (declared here, by its consumer): it receives the topic
 * messages of authenticated connections, in each connection's frame order (the next frame waits
 * for the returned promise), and learns when a connection goes away so it can drop that
 * connection's subscriptions. Answers go through the {@link TopicPeer}. `TopicService` is the one.
 */
export interface TopicHandler {
  handle(peer: TopicPeer, message: TopicMessage): void | Promise<void>;
  disconnected(peer: TopicPeer): void;
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
  /** A token update was accepted (counted as a refresh). */
  refreshed?(): void;
}

/** Where a connection is in its life. */
type ConnectionState = 'awaiting-hello' | 'open' | 'closing' | 'closed';

/** Identity of an authenticated connection. */
export interface ConnectionSession {
  sessionId: string;
  userId: string;
  roles: string[];
  expiresAt: number | null;
}

/**
 * One socket's state machine: waits for `hello`, authenticates, then serves `ping`, `update-token`
 * and `end` (and hands topic messages to the {@link TopicHandler}). Frames are processed one at a
 * time in arrival order, so a frame sent after `update-token` sees the new token. No method throws:
 * any failure ends as an `error` frame or a close with a code.
 */
export class Connection implements TopicPeer {
  readonly #socket: SocketLike;
  readonly #host: ConnectionHost;
  readonly #inbound: InboundFrames;
  readonly #expiry: ExpiryTimer;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #state: ConnectionState = 'awaiting-hello';
  #session: ConnectionSession | undefined;

  /**
   * @param socket - the accepted socket
   * @param host - the owning server
   * @param helloTimeoutMs - time allowed for the first frame
   */
  constructor(socket: SocketLike, host: ConnectionHost, helloTimeoutMs: number) {
    this.#socket = socket;
    this.#host = host;
    const limits = { maxTasks: MAX_QUEUED_FRAMES, maxBytes: MAX_QUEUED_BYTES };
    this.#inbound = new InboundFrames(host.rateLimit, limits, (error) => this.#fail(error));
    this.#expiry = new ExpiryTimer(() => this.close(CloseCode.TOKEN_EXPIRED, 'token expired'));
    this.#helloTimer = setTimeout(() => this.close(CloseCode.HELLO_TIMEOUT, 'no hello in time'), helloTimeoutMs);
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
    if (this.#state === 'closing' || this.#state === 'closed') return;
    const queued = this.#inbound.push(data.length, (verdict) => {
      if (this.#state === 'closing' || this.#state === 'closed') return;
      if (verdict === 'abuse') return this.close(CloseCode.RATE_LIMITED, 'rate limit exceeded');
      if (verdict === 'ok') return this.#process(data, isBinary);
      this.sendError(isBinary ? undefined : requestId(data), 'RATE_LIMITED', 'too many messages: slow down');
    });
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
      this.#host.logger.error(`close failed: ${describeError(error)}`);
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
      this.#host.logger.error(`send failed: ${describeError(error)}`);
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
    const { logger, registry } = this.#host;
    const negotiated = negotiateProtocol(hello.protocol);
    if ('refusal' in negotiated) return this.close(negotiated.refusal.code, negotiated.refusal.reason);
    let token: VerifiedToken;
    try {
      token = await this.#host.verifier.verify(hello.token);
    } catch (error) {
      const { code, reason } = helloRefusal(error);
      logger.debug?.({ sessionId: hello.sessionId, code, reason }, 'hello refused');
      return this.close(code, reason);
    }
    if (this.#state !== 'awaiting-hello') return;
    const schema = schemaRefusal(hello.schemaVersion, this.#host.schemaVersions);
    if (schema !== undefined) return this.close(schema.code, schema.reason);
    const attached = await registry.attach(hello.sessionId, token.userId, Date.now());
    if (attached === 'user-mismatch') {
      logger.warn({ sessionId: hello.sessionId, sub: token.userId }, 'session refused: owned by another user');
      return this.close(CloseCode.UNAUTHORIZED, 'session belongs to another user');
    }
    if (this.#state !== 'awaiting-hello') {
      // The socket closed while the registry answered: undo the binding handleClose() could not see.
      return this.#guard(() => registry.detach(hello.sessionId, Date.now()));
    }
    const { userId, roles, expiresAt } = token;
    this.#session = { sessionId: hello.sessionId, userId, roles, expiresAt };
    this.#state = 'open';
    this.#host.opened(this);
    this.#armExpiry(expiresAt);
    this.send({
      type: 'welcome',
      protocol: negotiated.protocol,
      sessionId: hello.sessionId,
      userId,
      roles,
      expiresAt,
      serverTime: Date.now(),
      resumed: attached === 'resumed',
      rolesClaim: this.#host.verifier.rolesClaim,
    });
    const build = hello.buildId?.slice(0, 64);
    logger.debug?.({ sessionId: hello.sessionId, sub: userId, build }, `session ${attached}`);
  }

  async #updateToken(message: UpdateTokenMessage): Promise<void> {
    let token: VerifiedToken;
    try {
      token = await this.#host.verifier.verify(message.token);
    } catch (error) {
      const { code, message: reason } = updateVerificationRefusal(error);
      return this.sendError(message.id, code, reason);
    }
    const session = this.#session;
    if (this.#state !== 'open' || session === undefined) return;
    const refusal = updateIdentityRefusal(session, token);
    if (refusal !== undefined) {
      this.sendError(message.id, refusal.code, refusal.message);
      if (refusal.code !== 'ROLES_MISMATCH') return;
      this.#host.logger.debug?.({ sessionId: session.sessionId }, 'session closed: roles changed');
      return this.close(CloseCode.ROLES_MISMATCH, 'token roles differ from the session');
    }
    session.expiresAt = token.expiresAt;
    this.#armExpiry(token.expiresAt);
    this.send({ type: 'token-updated', id: message.id, expiresAt: token.expiresAt, roles: token.roles });
    this.#host.refreshed?.();
  }

  async #end(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    await this.#host.registry.forget(session.sessionId);
    this.#host.logger.debug?.({ sessionId: session.sessionId, sub: session.userId }, 'session ended');
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
    this.#host.logger.error(`connection error: ${describeError(error)}`);
    if (this.#state === 'awaiting-hello') this.close(INTERNAL_ERROR, 'internal error');
    else this.sendError(undefined, 'INTERNAL', 'the server failed to process a frame');
  }

  /** Runs a registry call whose failure must not escape (close paths). */
  #guard(run: () => void | Promise<void>): void {
    try {
      const result = run();
      if (result instanceof Promise) result.catch((error: unknown) => this.#host.logger.error(describeError(error)));
    } catch (error) {
      this.#host.logger.error(describeError(error));
    }
  }
}

/** The request id of a frame, when one can be read (to answer a frame that is not processed). */
function requestId(data: string): number | undefined {
  const parsed = parseClientMessage(data);
  if (!parsed.ok) return parsed.id;
  return 'id' in parsed.message ? parsed.message.id : undefined;
}

function assertNever(value: never): never {
  throw new Error(`unhandled message ${JSON.stringify(value)}`);
}
