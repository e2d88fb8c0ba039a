import { isSessionError, SessionError, TokenExpiredError, UnauthorizedError } from '../../errors/index.js';
import { rolesFromClaim, type TokenIdentity } from '../../shared/token-claims.js';

/**
 * `auth.verify`: the app's own token check in place of JWT verification, for opaque session tokens
 * and identity providers whose tokens are not JWTs the server can verify. Its answer is held to the
 * same rules as a JWT's claims (a non-empty `sub`, roles as strings, `exp` in seconds).
 *
 * @module
 */

/**
 * What `auth.verify` resolves with: the user, their roles, and the expiry in **seconds** since the
 * epoch (like a JWT's `exp`; absent or `null` never expires). Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const identity: VerifiedIdentity = { sub: 'user-1', roles: ['member'], exp: Math.floor(Date.now() / 1000) + 3600 };
 * ```
 */
export interface VerifiedIdentity {
  /** The user id (`welcome.userId`): a non-empty string. */
  sub: string;
  /** The user's roles: strings (sorted and deduplicated by the server). Default none. */
  roles?: readonly string[] | undefined;
  /** Expiry in seconds since the epoch; the session closes with 4002 then. Default never. */
  exp?: number | null | undefined;
}

/**
 * Checks a token the server cannot verify itself. Reject (throw) to refuse it: any error becomes
 * UNAUTHORIZED (4001 at `hello`), except a `SessionError`, which keeps its code — throw
 * `new SessionError('INTERNAL', 'user service down')` for an outage, which closes a `hello` with
 * 1013 (the host retries with backoff) instead of logging the user out.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const verify: VerifyToken = async (token) => {
 *   const session = await db.sessions.find(token);
 *   if (!session) throw new Error('unknown session');
 *   return { sub: session.userId, roles: session.roles, exp: Math.floor(session.expiresAt / 1000) };
 * };
 * ```
 */
export type VerifyToken = (token: string) => Promise<VerifiedIdentity>;

/**
 * Time `auth.verify` has to answer (10 s); a slower answer refuses the token as `INTERNAL`
 * (1013 at `hello`, so the host tries again later). Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { verify, verifyTimeoutMs: DEFAULT_VERIFY_TIMEOUT_MS / 2 } });
 * ```
 */
export const DEFAULT_VERIFY_TIMEOUT_MS = 10_000;

/**
 * Runs `verify` with a deadline and maps its answer to the session's identity.
 *
 * @param verify - the app's check
 * @param token - the token presented
 * @param timeoutMs - deadline
 * @param clockToleranceSec - skew allowed on `exp`
 * @throws SessionError: UNAUTHORIZED (refused or an invalid answer), TOKEN_EXPIRED, INTERNAL (timeout, or as thrown)
 */
export async function verifyWithCallback(
  verify: VerifyToken,
  token: string,
  timeoutMs: number,
  clockToleranceSec: number,
): Promise<TokenIdentity> {
  let answer: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SessionError('INTERNAL', 'token check timed out')), timeoutMs);
    });
    answer = await Promise.race([Promise.resolve().then(() => verify(token)), deadline]);
  } catch (cause) {
    if (isSessionError(cause)) throw cause;
    throw new UnauthorizedError('token refused', { cause });
  } finally {
    clearTimeout(timer);
  }
  const identity = identityOf(answer);
  if (identity.expiresAt !== null && identity.expiresAt + clockToleranceSec * 1000 <= Date.now()) {
    throw new TokenExpiredError('token expired');
  }
  return identity;
}

function identityOf(answer: unknown): TokenIdentity {
  if (typeof answer !== 'object' || answer === null) throw new UnauthorizedError('auth.verify returned no identity');
  const { sub, roles, exp } = answer as Record<string, unknown>;
  if (typeof sub !== 'string' || sub.length === 0) throw new UnauthorizedError('auth.verify returned no "sub"');
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((role) => typeof role !== 'string'))) {
    throw new UnauthorizedError('auth.verify returned "roles" that are not strings');
  }
  if (exp !== undefined && exp !== null && (typeof exp !== 'number' || !Number.isFinite(exp))) {
    throw new UnauthorizedError('auth.verify returned an "exp" that is not a number');
  }
  return { userId: sub, roles: rolesFromClaim(roles ?? []), expiresAt: typeof exp === 'number' ? exp * 1000 : null };
}
