import { decodeProtectedHeader } from 'jose';
import { SessionError, SessionRolesMismatchError, TokenExpiredError, UnauthorizedError } from '../errors/index.js';
import {
  decodeTokenClaims,
  DEFAULT_ROLES_CLAIM,
  isExpired,
  sameRoles,
  type TokenClaims,
} from '../shared/token-claims.js';

/**
 * Why a token cannot replace the running session's (spec §3): another user's (`USER_MISMATCH`,
 * the session goes on), expired (`TokenExpiredError`), or other roles (`SessionRolesMismatchError`:
 * the caller ends the session with ROLES_MISMATCH). `undefined` when it may replace it.
 *
 * @param current - the running session's identity
 * @param claims - the new token's
 * @param serverNow - the server's clock
 * @param what - names the token in messages (`'the new token'`)
 */
export function replacementError(
  current: { userId: string; roles: readonly string[] },
  claims: TokenClaims,
  serverNow: number,
  what: string,
  compareRoles = true,
): SessionError | undefined {
  if (claims.userId !== current.userId) {
    return new SessionError('USER_MISMATCH', `${what} is for another user: call startSession(token) instead`);
  }
  if (isExpired(claims.expiresAt, serverNow)) return new TokenExpiredError(`${what} has expired`);
  if (compareRoles && !sameRoles(claims.roles, current.roles)) {
    return new SessionRolesMismatchError(`${what} carried other roles`);
  }
  return undefined;
}

/**
 * What the host can read from a token. A JWT is decoded (not verified: the server does that) with
 * the roles claim the server uses; anything else is **opaque** (a database session id, an Auth0
 * token without an audience): its user, roles and expiry are only known from the server's
 * `welcome`, as with any token the server verifies through `auth.verify`.
 */
export type TokenReading = { kind: 'jwt'; claims: TokenClaims } | { kind: 'opaque' };

/** Longest token the host accepts (a few KiB above the largest real JWT). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Reads a token the way the server will judge it.
 *
 * @param token - what the app passed
 * @param rolesClaim - the server's roles claim from its `welcome`: a claim path (the server verifies
 *   JWTs, so a value that is not one is refused here), `null` (the server decides through
 *   `auth.verify`: every token is opaque to the host), or `undefined` (not known yet: a JWT is read
 *   with the default claim, anything else is left to the server)
 * @throws {@link UnauthorizedError} for an empty or huge value, a JWT the server would refuse
 *   whatever its signature (`alg: none`, no `sub`), and a non-JWT where the server wants JWTs
 */
export function readToken(token: unknown, rolesClaim: string | null | undefined): TokenReading {
  if (typeof token !== 'string' || token.length === 0) {
    throw new UnauthorizedError('"token" must be a non-empty string');
  }
  if (token.length > MAX_TOKEN_LENGTH)
    throw new UnauthorizedError(`"token" is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (rolesClaim === null) return { kind: 'opaque' };
  if (!looksLikeJwt(token)) {
    if (rolesClaim === undefined) return { kind: 'opaque' };
    throw new UnauthorizedError('the token is not a valid JWT');
  }
  return { kind: 'jwt', claims: decodeTokenClaims(token, rolesClaim ?? DEFAULT_ROLES_CLAIM) };
}

/** Three base64url parts whose first decodes to a JSON header: a compact JWS. */
function looksLikeJwt(token: string): boolean {
  try {
    decodeProtectedHeader(token);
    return token.split('.').length === 3;
  } catch {
    return false;
  }
}
