import { decodeJwt, decodeProtectedHeader } from 'jose';
import { UnauthorizedError } from '../errors/index.js';

/** What the host reads from a JWT without verifying it (the server verifies). */
export interface TokenClaims extends TokenIdentity {
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

/** The identity a token's claims carry: what both the host (decoding) and the server (verifying) read. */
export interface TokenIdentity {
  /** `sub`. */
  userId: string;
  /** Roles from the roles claim, sorted, deduplicated. */
  roles: string[];
  /** `exp` in epoch ms, or `null` when the token has none. */
  expiresAt: number | null;
}

/**
 * Reads a claim by name, or by a dot path into nested objects when no top-level claim has that
 * exact name: `roles`, `realm_access.roles` (Keycloak), `app_metadata.roles` (Supabase), or a URL
 * claim such as `https://example.com/roles` (Auth0), which is looked up whole first.
 *
 * @param payload - the JWT claims
 * @param path - claim name or dot path
 */
export function readClaim(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Maps JWT claims to the session's identity: `sub` (required, a non-empty string), roles from
 * `rolesClaim` (see {@link readClaim} and {@link rolesFromClaim}) and `exp`. The one claims mapping
 * shared by the host and the server.
 *
 * @param payload - the decoded or verified claims
 * @param rolesClaim - claim name or dot path holding the roles
 * @throws {@link UnauthorizedError} when `sub` is missing or not a non-empty string
 */
export function identityFromClaims(
  payload: Readonly<Record<string, unknown>>,
  rolesClaim: string = DEFAULT_ROLES_CLAIM,
): TokenIdentity {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new UnauthorizedError('the token has no "sub" claim');
  return {
    userId: sub,
    roles: rolesFromClaim(readClaim(payload, rolesClaim)),
    expiresAt: typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp * 1000 : null,
  };
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
  return {
    ...identityFromClaims(payload, rolesClaim),
    notBefore: typeof payload.nbf === 'number' ? payload.nbf * 1000 : null,
  };
}

/** Whether a token expiring at `expiresAt` (epoch ms, `null` = never) has expired at `now`. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}
