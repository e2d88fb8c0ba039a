import type { SessionErrorType } from './error-codes.js';

/**
 * WebSocket close codes the reference server uses, one per reason. All are in 4000–4999 and travel
 * with a short reason (at most 123 bytes). See PROTOCOL.md.
 */
export const CloseCode = {
  /** Malformed JSON, unknown message type, or a message before `hello`. */
  PROTOCOL_ERROR: 4000,
  /** Bad signature, malformed token, `alg: none`, wrong issuer/audience, expired at connect. */
  UNAUTHORIZED: 4001,
  /** The session's token reached `exp` without a replacement. */
  TOKEN_EXPIRED: 4002,
  /** A token update carried other roles than the session's. */
  ROLES_MISMATCH: 4003,
  /** The client's schema version is not served. */
  SCHEMA_MISMATCH: 4004,
  /** The client ended the session (`endSession`). */
  SESSION_ENDED: 4005,
  /** The client speaks another protocol version. */
  UNSUPPORTED_PROTOCOL: 4006,
  /** No `hello` arrived in time after the socket opened. */
  HELLO_TIMEOUT: 4008,
  /** A frame exceeded the server's size limit (before `welcome`: the pre-hello byte limit). */
  MESSAGE_TOO_LARGE: 4009,
  /** The user already holds the most sockets the server allows per user; reconnect later. */
  TOO_MANY_SOCKETS: 4011,
  /** The connection kept sending faster than its rate limit. */
  RATE_LIMITED: 4029,
  /** The server is shutting down; reconnect later. */
  SERVER_SHUTDOWN: 4503,
} as const;

/** A close code of {@link CloseCode}. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Maps a close code to the session error it reports, or `undefined` when the close is not a session
 * error (the host may then reconnect with backoff).
 */
export function sessionErrorForCloseCode(code: number): SessionErrorType | undefined {
  switch (code) {
    case CloseCode.UNAUTHORIZED:
      return 'UNAUTHORIZED';
    case CloseCode.TOKEN_EXPIRED:
      return 'TOKEN_EXPIRED';
    case CloseCode.ROLES_MISMATCH:
      return 'ROLES_MISMATCH';
    case CloseCode.SCHEMA_MISMATCH:
      return 'SCHEMA_MISMATCH';
    default:
      return undefined;
  }
}

/** Close codes after which the host must not reconnect on its own. */
export function isFatalCloseCode(code: number): boolean {
  return (
    sessionErrorForCloseCode(code) !== undefined ||
    code === CloseCode.SESSION_ENDED ||
    code === CloseCode.UNSUPPORTED_PROTOCOL
  );
}
