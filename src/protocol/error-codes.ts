/**
 * The four session error types of the Triplit session API, reported to `onSessionError`.
 * After one, the socket is closed and no reconnect runs until a new `startSession` or
 * `updateSessionToken`.
 */
export type SessionErrorType = 'UNAUTHORIZED' | 'SCHEMA_MISMATCH' | 'TOKEN_EXPIRED' | 'ROLES_MISMATCH';

/** Every session error type, for validation and iteration. */
export const SESSION_ERROR_TYPES: readonly SessionErrorType[] = [
  'UNAUTHORIZED',
  'SCHEMA_MISMATCH',
  'TOKEN_EXPIRED',
  'ROLES_MISMATCH',
];

/**
 * Every `code` a {@link SessionError} may carry: the session error types plus request-level codes.
 * The server uses the same codes in `error` frames.
 */
export type SessionErrorCode =
  | SessionErrorType
  /** `updateSessionToken`, `publish`, … called while no session runs. */
  | 'NO_ACTIVE_SESSION'
  /** A token update for another `sub` than the session's: refused, the session continues. */
  | 'USER_MISMATCH'
  /** An argument had the wrong type or value. */
  | 'INVALID_ARGUMENT'
  /** The server could not parse a frame or does not know its type. */
  | 'BAD_MESSAGE'
  /** The caller's roles may not read or write this topic. */
  | 'FORBIDDEN'
  /** A frame or payload exceeded the configured size limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** The connection exceeded its message rate limit. */
  | 'RATE_LIMITED'
  /** The request did not complete in time (server, host or tab did not answer). */
  | 'TIMEOUT'
  /** The request could not complete because the socket closed first. */
  | 'DISCONNECTED'
  /** The session host (SharedWorker or leader tab) could not be started or stopped answering. */
  | 'HOST_UNAVAILABLE'
  /** The page and the host (or host and server) speak incompatible protocol versions. */
  | 'PROTOCOL_MISMATCH'
  /** This client was closed with `close()`. */
  | 'CLIENT_CLOSED'
  /** A subscription's position fell out of the topic's retained log; it continues from the first retained change. */
  | 'HISTORY_TRIMMED'
  /** A `subscribe` over the server's subscriptions-per-connection limit: nothing was subscribed. */
  | 'TOO_MANY_SUBSCRIPTIONS'
  /** An unexpected failure; the message says what. */
  | 'INTERNAL';
