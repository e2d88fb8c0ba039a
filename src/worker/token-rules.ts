import { SessionError, SessionRolesMismatchError, TokenExpiredError } from '../errors/index.js';
import { isExpired, sameRoles, type TokenClaims } from '../shared/token-claims.js';

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
): SessionError | undefined {
  if (claims.userId !== current.userId) {
    return new SessionError('USER_MISMATCH', `${what} is for another user: call startSession(token) instead`);
  }
  if (isExpired(claims.expiresAt, serverNow)) return new TokenExpiredError(`${what} has expired`);
  if (!sameRoles(claims.roles, current.roles)) return new SessionRolesMismatchError(`${what} carried other roles`);
  return undefined;
}
