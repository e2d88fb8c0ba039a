import { decodeJwt, decodeProtectedHeader } from 'jose';
import { UnauthorizedError } from '../errors/index.js';

/** What page and host read from a JWT without verifying it (the server verifies). */
export interface TokenClaims {
  /** `sub`. */
  userId: string;
  /** Roles from the roles claim, sorted, deduplicated. */
  roles: string[];
  /** `exp` in epoch ms, or `null` when the token has none. */
  expiresAt: number | null;
  /** `nbf` in epoch ms, or `null`. */
  notBefore: number | null;
}

/** Default claim that holds the roles. */
export const DEFAULT_ROLES_CLAIM = 'roles';

/**
 * Reads the roles from a claim value: an array of strings, or one string (space-separated, as
 * OAuth scopes are). Anything else yields no roles.
 */
export function rolesFromClaim(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\s+/) : [];
  return [...new Set(list.filter((r): r is string => typeof r === 'string' && r.length > 0))].sort();
}

/** Whether two role lists (as returned by {@link rolesFromClaim}) are equal. */
export function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role, i) => role === b[i]);
}

/**
 * Decodes a JWT with jose, without verifying its signature. Throws {@link UnauthorizedError} for a
 * value that is not a JWT, for `alg: none`, and for a token without `sub`.
 *
 * @param token - compact JWS
 * @param rolesClaim - claim to read roles from
 */
export function decodeTokenClaims(token: unknown, rolesClaim = DEFAULT_ROLES_CLAIM): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) {
    throw new UnauthorizedError('"token" must be a non-empty string');
  }
  let payload: ReturnType<typeof decodeJwt>;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
      throw new UnauthorizedError('unsigned tokens ("alg": "none") are refused');
    }
    payload = decodeJwt(token);
  } catch (cause) {
    if (cause instanceof UnauthorizedError) throw cause;
    throw new UnauthorizedError('the token is not a valid JWT', { cause });
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new UnauthorizedError('the token has no "sub" claim');
  }
  return {
    userId: payload.sub,
    roles: rolesFromClaim(payload[rolesClaim]),
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : null,
    notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : null,
  };
}

/** Whether a token expiring at `expiresAt` (epoch ms, `null` = never) has expired at `now`. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}
