import { CloseCode } from '../../protocol/close-codes.js';
import type { SessionErrorCode } from '../../protocol/error-codes.js';
import type { ClientMessage, HelloMessage, ServerMessage, UpdateTokenMessage } from '../../protocol/messages.js';
import { parseClientMessage } from '../../protocol/parse.js';
import { MAX_QUEUED_FRAMES, UNAUTHENTICATED_CLOSE_GRACE_MS } from '../constants.js';
import type { ServerLimits } from '../limits.js';
import { describeError, type Logger } from '../logger.js';
import type { TopicMessage, TopicPeer } from '../topics/peer.js';
import type { AdmissionTicket } from '../transport/admission.js';
import { InboundFrames, type RateLimitOptions, type RateVerdict } from '../transport/flow-control.js';
import { closeReason, sendTextFrame, type OutgoingFrame, type SocketLike } from '../transport/socket.js';
import { closeExpired, ExpiryTimer } from './expiry-timer.js';
import {
  helloRefusal,
  INTERNAL_ERROR,
  negotiateProtocol,
  refusedFrameId,
  schemaRefusal,
  socketsRefusal,
  tokenTooLarge,
  updateIdentityRefusal,
  updateVerificationRefusal,
} from './handshake.js';
import { sessionKey, type SessionRegistry } from './registry.js';
import type { TokenVerifier, VerifiedToken } from './token-verifier.js';

/**
 * The data plane as a connection sees it (declared here, by its consumer): it receives the topic
 * messages of authenticated connections, in each connection's frame order (the next frame waits
 * for the returned promise), and learns when a connection goes away so it can drop that
 * connection's subscriptions. Answers go through the {@link TopicPeer}. `TopicService` is the one.
 * `handle` may resolve before its answer is sent (a pipelined publish); `settled` then resolves
 * once every answer owed to the peer went out, and the connection awaits it before any other frame.
 */
export interface TopicHandler {
  handle(peer: TopicPeer, message: TopicMessage): void | Promise<void>;
  settled?(peer: TopicPeer): Promise<void> | undefined;
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
  /** The data plane: receives `subscribe`, `unsubscribe`, `publish` and `history`. */
  readonly topics: TopicHandler;
  /** The server's limits (token size, sockets per user, JSON depth, queues). */
  readonly limits: ServerLimits;
  /** Authenticated connections of `userId` open on this process now. */
  socketsOfUser(userId: string): number;
  /** The connection authenticated into its session. */
  opened(connection: Connection): void;
  /** The client ended the session of registry key `key`: every connection of it must close with 4005. */
  ended(key: string): void;
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
  /** The session's key in the registry: the user and the session id ({@link sessionKey}). */
  key: string;
  userId: string;
  roles: string[];
  expiresAt: number | null;
}

/** How a connection starts. */
export interface ConnectionOptions {
  /** Time allowed for the first frame; then the socket is closed with 4008 and destroyed. */
  helloTimeoutMs: number;
  /** The socket's admission as an unauthenticated socket, released at `welcome`. */
  ticket?: AdmissionTicket;
}

/**
 * One socket's state machine: waits for `hello`, authenticates, then serves `ping`, `update-token`
 * and `end` (and hands topic messages to the {@link TopicHandler}). Frames are processed one at a
 * time in arrival order, so a frame sent after `update-token` sees the new token. No method throws:
 * any failure ends as an `error` frame or a close with a code. A socket refused before `welcome`
 * is destroyed if it does not answer the close frame within {@link UNAUTHENTICATED_CLOSE_GRACE_MS},
 * and at the hello deadline at once.
 */
export class Connection implements TopicPeer {
  readonly #socket: SocketLike;
  readonly #host: ConnectionHost;
  readonly #inbound: InboundFrames;
  readonly #expiry: ExpiryTimer;
  readonly #ticket: AdmissionTicket | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #terminateTimer: ReturnType<typeof setTimeout> | undefined;
  #state: ConnectionState = 'awaiting-hello';
  #session: ConnectionSession | undefined;

  /**
   * @param socket - the accepted socket
   * @param host - the owning server
   * @param options - the hello deadline and the socket's admission ticket
   */
  constructor(socket: SocketLike, host: ConnectionHost, options: ConnectionOptions) {
    this.#socket = socket;
    this.#host = host;
    this.#ticket = options.ticket;
    const { limits } = host;
    // Never fewer than the burst the rate limit allows: a burst it admits is served, not refused.
    const burst = host.rateLimit ? host.rateLimit.burst : 0;
    const maxFrames = Math.max(limits.maxQueuedFrames ?? MAX_QUEUED_FRAMES, burst);
    this.#inbound = new InboundFrames(host.rateLimit, { maxFrames, maxBytes: limits.maxQueuedBytes }, socket, (error) =>
      this.#fail(error),
    );
    this.#expiry = new ExpiryTimer(() => closeExpired(this));
    this.#helloTimer = setTimeout(() => {
      this.close(CloseCode.HELLO_TIMEOUT, 'no hello in time');
      this.#terminate();
    }, options.helloTimeoutMs);
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
    this.#inbound.push(data.length, (verdict) => this.#handler(verdict, data, isBinary));
  }

  /** The socket sent more raw bytes than allowed before `welcome`: 4009, then destroyed. */
  preHelloLimitExceeded(): void {
    if (this.#state !== 'awaiting-hello') return;
    this.#socket.pause(); // read nothing more of it: the rest of its frame stays in the kernel
    const limit = this.#host.limits.maxPreHelloBytes;
    this.close(CloseCode.MESSAGE_TOO_LARGE, `message too large (limit ${limit} bytes before hello)`);
  }

  /** What runs in turn for a frame of this verdict; a refused frame's handler keeps only its id. */
  #handler(verdict: RateVerdict, data: string, isBinary: boolean): () => void | Promise<void> {
    const open = () => this.#state !== 'closing' && this.#state !== 'closed';
    if (verdict === 'ok') return () => (open() ? this.#process(data, isBinary) : undefined);
    if (verdict === 'abuse') return () => this.close(CloseCode.RATE_LIMITED, 'rate limit exceeded');
    const id = isBinary ? undefined : refusedFrameId(data, this.#host.limits.maxJsonDepth);
    return async () => {
      await this.#host.topics.settled?.(this); // after the answers owed to earlier publishes
      if (open()) this.sendError(id, 'RATE_LIMITED', 'too many messages: slow down');
    };
  }

  /** Tells the connection its socket closed. Releases timers and the session binding. */
  handleClose(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearTimers();
    const session = this.#session;
    if (session !== undefined) {
      this.#guard(() => this.#host.topics.disconnected(this));
      this.#guard(() => this.#host.registry.detach(session.key, Date.now()));
    }
    this.#ticket?.release();
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
    const authenticated = this.#state === 'open';
    this.#state = 'closing';
    this.#clearTimers();
    try {
      this.#socket.close(code, closeReason(reason));
    } catch (error) {
      this.#host.logger.error(`close failed: ${describeError(error)}`);
    }
    // A raw socket may ignore the close frame: do not give it ws's 30 s close timeout.
    if (!authenticated) {
      this.#terminateTimer = setTimeout(() => this.#terminate(), UNAUTHENTICATED_CLOSE_GRACE_MS);
      this.#terminateTimer.unref?.();
    }
  }

  #terminate(): void {
    if (this.#state === 'closed') return;
    try {
      this.#socket.terminate();
    } catch (error) {
      this.#host.logger.error(`terminate failed: ${describeError(error)}`);
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
   * Sends a frame already serialised (a fan-out serialises and encodes a change once for every
   * connection), as a text frame.
   *
   * @param frame - the JSON text of one server message, or its UTF-8 bytes
   */
  sendText(frame: OutgoingFrame): void {
    if (this.#state === 'closed') return;
    try {
      sendTextFrame(this.#socket, frame);
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
    const parsed = isBinary ? undefined : parseClientMessage(data, { maxDepth: this.#host.limits.maxJsonDepth });
    if (this.#state === 'awaiting-hello') {
      if (parsed === undefined) return this.close(CloseCode.PROTOCOL_ERROR, 'binary frames are not supported');
      if (!parsed.ok) return this.close(CloseCode.PROTOCOL_ERROR, parsed.reason);
      if (parsed.message.type !== 'hello') return this.close(CloseCode.PROTOCOL_ERROR, 'first frame must be "hello"');
      return this.#hello(parsed.message);
    }
    // Publishes answer in order by themselves; any other answer waits for theirs.
    if (parsed?.ok !== true || parsed.message.type !== 'publish') await this.#host.topics.settled?.(this);
    if (parsed === undefined) return this.sendError(undefined, 'BAD_MESSAGE', 'binary frames are not supported');
    if (!parsed.ok) return this.sendError(parsed.id, parsed.code ?? 'BAD_MESSAGE', parsed.reason);
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
      case 'history':
        return this.#host.topics.handle(this, message);
    }
  }

  async #hello(hello: HelloMessage): Promise<void> {
    this.#clearHelloTimer();
    const { logger, registry } = this.#host;
    const negotiated = negotiateProtocol(hello.protocol);
    if ('refusal' in negotiated) return this.close(negotiated.refusal.code, negotiated.refusal.reason);
    if (tokenTooLarge(hello.token, this.#host.limits.maxTokenBytes))
      return this.close(CloseCode.UNAUTHORIZED, 'token too large');
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
    // Keyed by user and id: a session id is only ever one user's, whatever another user presents.
    const key = sessionKey(token.userId, hello.sessionId);
    const attached = await registry.attach(key, token.userId, Date.now());
    if (attached === 'user-mismatch') {
      // Only a custom registry that keys by the id alone can answer this.
      logger.warn({ sessionId: hello.sessionId, sub: token.userId }, 'session refused: owned by another user');
      return this.close(CloseCode.UNAUTHORIZED, 'session belongs to another user');
    }
    if (this.#state !== 'awaiting-hello') {
      // The socket closed while the registry answered: undo the binding handleClose() could not see.
      return this.#guard(() => registry.detach(key, Date.now()));
    }
    const { userId, roles, expiresAt } = token;
    const crowded = socketsRefusal(this.#host.socketsOfUser(userId), this.#host.limits.maxSocketsPerUser);
    if (crowded !== undefined) {
      this.#guard(() => registry.detach(key, Date.now()));
      logger.warn(`hello refused for sub ${JSON.stringify(userId)}: ${crowded.reason}`);
      return this.close(crowded.code, crowded.reason);
    }
    this.#session = { sessionId: hello.sessionId, key, userId, roles, expiresAt };
    this.#state = 'open';
    this.#ticket?.authenticated();
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
    if (tokenTooLarge(message.token, this.#host.limits.maxTokenBytes))
      return this.sendError(message.id, 'UNAUTHORIZED', 'token too large');
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
    await this.#host.registry.forget(session.key);
    this.#host.logger.debug?.({ sessionId: session.sessionId, sub: session.userId }, 'session ended');
    this.#host.ended(session.key);
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
    if (this.#state === 'closed' && this.#terminateTimer !== undefined) clearTimeout(this.#terminateTimer);
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
