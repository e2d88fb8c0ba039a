/**
 * Typed errors of shared-session. Import from `shared-session/errors`.
 *
 * Every error has a `code` and a `name` equal to its class name; both survive the RPC boundary
 * between a tab and its host, so either check works:
 *
 * @example
 * ```ts
 * import { SessionError, TokenExpiredError } from 'shared-session/errors';
 * try {
 *   await client.updateSessionToken(token);
 * } catch (err) {
 *   if (err instanceof TokenExpiredError) askForLogin();
 *   else if (err instanceof SessionError && err.code === 'ROLES_MISMATCH') reload();
 *   else throw err;
 * }
 * ```
 */
import type { SessionErrorCode } from '../protocol/error-codes.js';

export type { SessionErrorCode, SessionErrorType } from '../protocol/error-codes.js';
export { SESSION_ERROR_TYPES } from '../protocol/error-codes.js';
export { CloseCode, type CloseCodeValue } from '../protocol/close-codes.js';

/** Base class of every error shared-session throws. */
export class SessionError extends Error {
  /** Machine-readable reason; see {@link SessionErrorCode}. */
  readonly code: SessionErrorCode;

  /**
   * @param code - machine-readable reason
   * @param message - lowercase, factual, actionable
   * @param options - `{ cause }`
   */
  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** `updateSessionToken` (or another session call) ran while no session was started. */
export class NoActiveSessionError extends SessionError {
  constructor(message = 'no session is running: call startSession(token) first', options?: { cause?: unknown }) {
    super('NO_ACTIVE_SESSION', message, options);
  }
}

/** The token is past its `exp`. */
export class TokenExpiredError extends SessionError {
  constructor(message = 'the token has expired', options?: { cause?: unknown }) {
    super('TOKEN_EXPIRED', message, options);
  }
}

/** A token update carried other roles than the running session; the session ends with ROLES_MISMATCH. */
export class SessionRolesMismatchError extends SessionError {
  constructor(message = 'the new token has other roles than the session', options?: { cause?: unknown }) {
    super('ROLES_MISMATCH', message, options);
  }
}

/** The token is not a valid JWT, or the server refused it (signature, issuer, audience, `alg`). */
export class UnauthorizedError extends SessionError {
  constructor(message = 'the token was refused', options?: { cause?: unknown }) {
    super('UNAUTHORIZED', message, options);
  }
}

/** The server cannot serve the client's schema version. */
export class SchemaMismatchError extends SessionError {
  constructor(message = 'the server does not serve this schema version', options?: { cause?: unknown }) {
    super('SCHEMA_MISMATCH', message, options);
  }
}

/** Caller's roles may not read or write a topic. */
export class ForbiddenError extends SessionError {
  constructor(message = 'not allowed', options?: { cause?: unknown }) {
    super('FORBIDDEN', message, options);
  }
}

/** The session host could not be started, or stopped answering. */
export class HostUnavailableError extends SessionError {
  constructor(message = 'the session host is not answering', options?: { cause?: unknown }) {
    super('HOST_UNAVAILABLE', message, options);
  }
}

type SessionErrorClass = new (message?: string, options?: { cause?: unknown }) => SessionError;

const SUBCLASS_BY_CODE: Partial<Record<SessionErrorCode, SessionErrorClass>> = {
  NO_ACTIVE_SESSION: NoActiveSessionError,
  TOKEN_EXPIRED: TokenExpiredError,
  ROLES_MISMATCH: SessionRolesMismatchError,
  UNAUTHORIZED: UnauthorizedError,
  SCHEMA_MISMATCH: SchemaMismatchError,
  FORBIDDEN: ForbiddenError,
  HOST_UNAVAILABLE: HostUnavailableError,
};

/**
 * Builds the most specific error class for `code` (e.g. `TOKEN_EXPIRED` → {@link TokenExpiredError}).
 *
 * @example
 * ```ts
 * throw createSessionError('NO_ACTIVE_SESSION', 'no session is running');
 * ```
 */
export function createSessionError(
  code: SessionErrorCode,
  message: string,
  options?: { cause?: unknown },
): SessionError {
  const Subclass = SUBCLASS_BY_CODE[code];
  return Subclass ? new Subclass(message, options) : new SessionError(code, message, options);
}

/** Whether `value` is a {@link SessionError}, also across realms where `instanceof` fails. */
export function isSessionError(value: unknown): value is SessionError {
  return (
    value instanceof SessionError ||
    (value instanceof Error && typeof (value as { code?: unknown }).code === 'string' && value.name.endsWith('Error'))
  );
}
