import type { SessionErrorCode } from './error-codes.js';

/**
 * Wire messages between a session host and the server: one JSON object per WebSocket text frame,
 * discriminated by `type`. Requests that expect an answer carry a numeric `id` chosen by the
 * client; the answer echoes it. See PROTOCOL.md for the sequence diagrams.
 */

/** JSON value carried as topic data. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** First frame on every socket: authenticates and names the session to start or resume. */
export interface HelloMessage {
  type: 'hello';
  /** {@link PROTOCOL_VERSION} of the client. */
  protocol: number;
  /** The JWT. Sent here, never in the URL. */
  token: string;
  /** Session id chosen by the host (`crypto.randomUUID()`), kept across reconnects and reloads. */
  sessionId: string;
  /** The app's schema version, when it declares one. */
  schemaVersion?: number;
  /** Build id of the host, for logs and version-skew diagnostics. */
  buildId?: string;
}

/** Replaces the session's token on the live socket. Answered by `token-updated` or `error`. */
export interface UpdateTokenMessage {
  type: 'update-token';
  id: number;
  token: string;
}

/** Liveness and clock probe. Answered by `pong`. */
export interface PingMessage {
  type: 'ping';
  id: number;
}

/** Ends the session for good: the server forgets it and closes with `SESSION_ENDED`. */
export interface EndMessage {
  type: 'end';
}

/** Subscribes to a topic, asking for the changes after `after` (0 = from the start). */
export interface SubscribeMessage {
  type: 'subscribe';
  id: number;
  topic: string;
  after: number;
}

/** Stops a subscription. Not answered. */
export interface UnsubscribeMessage {
  type: 'unsubscribe';
  topic: string;
}

/** Appends `data` to a topic. `clientId` makes retries idempotent. Answered by `published`. */
export interface PublishMessage {
  type: 'publish';
  id: number;
  topic: string;
  clientId: string;
  data: JsonValue;
}

/**
 * Asks for older changes of a topic: the newest `limit` changes with seq < `before`, oldest first.
 * Permission-checked like `subscribe`. Answered by `history` or `error` (FORBIDDEN,
 * INVALID_ARGUMENT).
 */
export interface HistoryRequestMessage {
  type: 'history';
  id: number;
  topic: string;
  /** Only changes with seq < before (a positive integer). Default: the newest changes. */
  before?: number;
  /** Most changes wanted, 1 or more (default 50); the server serves at most its maximum (500). */
  limit?: number;
}

/** Every frame a client may send. */
export type ClientMessage =
  | HelloMessage
  | UpdateTokenMessage
  | PingMessage
  | EndMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PublishMessage
  | HistoryRequestMessage;

/** Answer to `hello`: the session is authenticated and live. */
export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  sessionId: string;
  userId: string;
  roles: string[];
  /** Token expiry in epoch milliseconds (server clock), `null` for a token without `exp`. */
  expiresAt: number | null;
  /** The server's `Date.now()` when it sent this frame, for the clock offset. */
  serverTime: number;
  /** Whether the server still knew this session id (it resumed rather than created it). */
  resumed: boolean;
  /**
   * The claim path the server reads roles from (`roles`, `realm_access.roles`,
   * `https://example.com/roles`), or `null` when the server's own `auth.verify` decides them
   * (opaque tokens): a host that decodes a token reads its roles exactly as the server does.
   * Absent from servers older than this field.
   */
  rolesClaim?: string | null;
}

/** Answer to `update-token`. */
export interface TokenUpdatedMessage {
  type: 'token-updated';
  id: number;
  /** The new token's expiry in epoch milliseconds (server clock), `null` for none. */
  expiresAt: number | null;
  /** The new token's roles as the server read them (sorted); absent from servers older than this field. */
  roles?: string[];
}

/** Answer to `ping`. */
export interface PongMessage {
  type: 'pong';
  id: number;
  serverTime: number;
}

/** Answer to `subscribe`: the server will send changes after `after`, then live ones. */
export interface SubscribedMessage {
  type: 'subscribed';
  id: number;
  topic: string;
  /** The topic's last sequence number when the subscription started. */
  head: number;
}

/** One change of a topic the connection is subscribed to. */
export interface ChangeMessage {
  type: 'change';
  topic: string;
  /** Per-topic sequence number, starting at 1, without gaps. */
  seq: number;
  data: JsonValue;
  /** Epoch milliseconds (server clock) when the server stored the change. */
  publishedAt: number;
  /** The publisher's `clientId`, when it came from a client. */
  clientId?: string;
}

/** One change in a `history` answer: a `change` frame's fields without `type` and `topic`. */
export type HistoryChange = Omit<ChangeMessage, 'type' | 'topic'>;

/** Answer to a `history` request. */
export interface HistoryMessage {
  type: 'history';
  id: number;
  topic: string;
  /** Ascending by seq, all below the request's `before`; at most the request's `limit`. */
  changes: HistoryChange[];
  /** Whether the topic retains changes older than the first one here (ask again with `before` = its seq). */
  hasMore: boolean;
}

/**
 * Sent on a subscription whose position fell out of the topic's retained log (retention dropped
 * the changes after `after` and before `first`): the next change of the subscription is `first`,
 * the start of what the server retains. Never a silent gap: the client learns exactly which seqs
 * it will not get. Its code for the host's error reports is `HISTORY_TRIMMED`.
 */
export interface HistoryTrimmedMessage {
  type: 'history-trimmed';
  topic: string;
  /** The subscription's position: the last seq sent on it (or its `after`). */
  after: number;
  /** The first retained seq, the next `change` of this topic on this socket. */
  first: number;
}

/** Answer to `publish`: the change is stored. `duplicate` when `clientId` was seen before. */
export interface PublishedMessage {
  type: 'published';
  id: number;
  topic: string;
  seq: number;
  duplicate: boolean;
}

/** A typed error: the answer to request `id`, or about a frame without one. */
export interface ErrorMessage {
  type: 'error';
  id?: number;
  code: SessionErrorCode;
  message: string;
}

/** Every frame the server may send. */
export type ServerMessage =
  | WelcomeMessage
  | TokenUpdatedMessage
  | PongMessage
  | SubscribedMessage
  | ChangeMessage
  | PublishedMessage
  | HistoryMessage
  | HistoryTrimmedMessage
  | ErrorMessage;
