/**
 * Typed errors of shared-session. Import from `shared-session/errors`.
 *
 * Every error has a `code` and a literal `name` (`'TokenExpiredError'`, …) that a consumer's
 * minifier cannot rename; every subclass also carries its code as a static (`TokenExpiredError.code`,
 * as jose does). Both survive the RPC boundary between a tab and its host, so any of these checks work:
 *
 * @example
 * ```ts
 * import { SessionError, TokenExpiredError } from 'shared-session/errors';
 * try {
 *   await client.updateSessionToken(token);
 * } catch (err) {
 *   if (err instanceof TokenExpiredError) askForLogin(); // or err.name === 'TokenExpiredError'
 *   else if (err instanceof SessionError && err.code === 'ROLES_MISMATCH') reload();
 *   else throw err;
 * }
 * ```
 */
import type { SessionErrorCode } from '../protocol/error-codes.js';

export type { SessionErrorCode, SessionErrorType } from '../protocol/error-codes.js';
export { SESSION_ERROR_TYPES } from '../protocol/error-codes.js';
export { CloseCode, type CloseCodeValue } from '../protocol/close-codes.js';

/**
 * Marks shared-session errors across realms (iframes, a second copy of the package), where
 * `instanceof` fails: `Symbol.for` is shared by every realm of the agent.
 */
const SESSION_ERROR_BRAND = Symbol.for('shared-session.SessionError');

/**
 * Base class of every error shared-session throws. Import from `shared-session/errors`.
 *
 * @example
 * ```ts
 * import { SessionError } from 'shared-session/errors';
 * const stop = client.subscribe('room:1', render, {
 *   onError: (err: SessionError) => err.code === 'FORBIDDEN' && showLocked(),
 * });
 * ```
 */
export class SessionError extends Error {
  /** `'SessionError'`, or the subclass's own literal name (never a minified class name). */
  override name: string = 'SessionError';
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
  }

  static {
    // On the prototype, non-enumerable: invisible to `toMatchObject`, JSON and structured clone.
    Object.defineProperty(this.prototype, SESSION_ERROR_BRAND, { value: true });
  }
}

/**
 * `updateSessionToken` (or another session call) ran while no session was started.
 *
 * @example
 * ```ts
 * await client.updateSessionToken(token).catch((err) => err instanceof NoActiveSessionError && signIn());
 * ```
 */
export class NoActiveSessionError extends SessionError {
  static readonly code = 'NO_ACTIVE_SESSION';
  override name = 'NoActiveSessionError' as const;
  declare readonly code: typeof NoActiveSessionError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'no session is running: call startSession(token) first', options?: { cause?: unknown }) {
    super(NoActiveSessionError.code, message, options);
  }
}

/**
 * The token is past its `exp`.
 *
 * @example
 * ```ts
 * await client.updateSessionToken(old).catch((err) => err.code === TokenExpiredError.code && signIn());
 * ```
 */
export class TokenExpiredError extends SessionError {
  static readonly code = 'TOKEN_EXPIRED';
  override name = 'TokenExpiredError' as const;
  declare readonly code: typeof TokenExpiredError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'the token has expired', options?: { cause?: unknown }) {
    super(TokenExpiredError.code, message, options);
  }
}

/**
 * A token update carried other roles than the running session; the session ends with ROLES_MISMATCH.
 *
 * @example
 * ```ts
 * await client.updateSessionToken(t).catch((err) => err instanceof SessionRolesMismatchError && location.reload());
 * ```
 */
export class SessionRolesMismatchError extends SessionError {
  static readonly code = 'ROLES_MISMATCH';
  override name = 'SessionRolesMismatchError' as const;
  declare readonly code: typeof SessionRolesMismatchError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'the new token has other roles than the session', options?: { cause?: unknown }) {
    super(SessionRolesMismatchError.code, message, options);
  }
}

/**
 * The token is not a valid JWT, or the server refused it (signature, issuer, audience, `alg`).
 *
 * @example
 * ```ts
 * await client.startSession(token).catch((err) => err instanceof UnauthorizedError && signIn());
 * ```
 */
export class UnauthorizedError extends SessionError {
  static readonly code = 'UNAUTHORIZED';
  override name = 'UnauthorizedError' as const;
  declare readonly code: typeof UnauthorizedError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'the token was refused', options?: { cause?: unknown }) {
    super(UnauthorizedError.code, message, options);
  }
}

/**
 * The server cannot serve the client's schema version.
 *
 * @example
 * ```ts
 * client.onSessionError((type) => type === SchemaMismatchError.code && promptToReload());
 * ```
 */
export class SchemaMismatchError extends SessionError {
  static readonly code = 'SCHEMA_MISMATCH';
  override name = 'SchemaMismatchError' as const;
  declare readonly code: typeof SchemaMismatchError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'the server does not serve this schema version', options?: { cause?: unknown }) {
    super(SchemaMismatchError.code, message, options);
  }
}

/**
 * Caller's roles may not read or write a topic.
 *
 * @example
 * ```ts
 * await client.publish('admin:log', entry).catch((err) => err instanceof ForbiddenError && showLocked());
 * ```
 */
export class ForbiddenError extends SessionError {
  static readonly code = 'FORBIDDEN';
  override name = 'ForbiddenError' as const;
  declare readonly code: typeof ForbiddenError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'not allowed', options?: { cause?: unknown }) {
    super(ForbiddenError.code, message, options);
  }
}

/**
 * The session host could not be started, or stopped answering.
 *
 * @example
 * ```ts
 * client.onHostUnavailable((err: HostUnavailableError) => showBanner(err.message));
 * ```
 */
export class HostUnavailableError extends SessionError {
  static readonly code = 'HOST_UNAVAILABLE';
  override name = 'HostUnavailableError' as const;
  declare readonly code: typeof HostUnavailableError.code;
  /** @param message - what happened; @param options - `{ cause }` */
  constructor(message = 'the session host is not answering', options?: { cause?: unknown }) {
    super(HostUnavailableError.code, message, options);
  }
}

type SessionErrorClass = (new (message?: string, options?: { cause?: unknown }) => SessionError) & {
  readonly code: SessionErrorCode;
};

const SUBCLASS_BY_CODE = new Map<SessionErrorCode, SessionErrorClass>(
  [
    NoActiveSessionError,
    TokenExpiredError,
    SessionRolesMismatchError,
    UnauthorizedError,
    SchemaMismatchError,
    ForbiddenError,
    HostUnavailableError,
  ].map((Subclass: SessionErrorClass) => [Subclass.code, Subclass]),
);

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
  const Subclass = SUBCLASS_BY_CODE.get(code);
  return Subclass ? new Subclass(message, options) : new SessionError(code, message, options);
}

/**
 * Whether `value` is a {@link SessionError}, also across realms where `instanceof` fails. Only
 * shared-session's own errors count: a plain `Error` with a string `code` (`ECONNRESET`) does not.
 *
 * @example
 * ```ts
 * if (isSessionError(err) && err.code === 'FORBIDDEN') showLocked();
 * ```
 */
export function isSessionError(value: unknown): value is SessionError {
  return (
    value instanceof SessionError ||
    (value instanceof Error && (value as unknown as Record<symbol, unknown>)[SESSION_ERROR_BRAND] === true)
  );
}
