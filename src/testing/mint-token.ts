import { SignJWT } from 'jose';

/** Claims of a test token. */
export interface MintTokenOptions {
  /** The user (`sub`). */
  sub: string;
  /** Roles claim. Default `[]`. */
  roles?: string[];
  /** Seconds until `exp` (negative for an expired token); `null` for a token without `exp`. Default 3600. */
  expiresIn?: number | null;
  /** More claims (`iss`, `aud`, custom ones). */
  claims?: Record<string, unknown>;
  /** Name of the roles claim. Default `'roles'`. */
  rolesClaim?: string;
}

/**
 * Returns a function that signs HS256 tokens with `secret`, for tests.
 * Import from `shared-session/testing`.
 *
 * @param secret - the secret the server verifies with
 * @example
 * ```ts
 * const mintToken = createTokenMinter(secret);
 * const token = await mintToken({ sub: 'alice', roles: ['member'], expiresIn: 30 });
 * ```
 */
export function createTokenMinter(secret: string | Uint8Array): (options: MintTokenOptions) => Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  return async ({ sub, roles = [], expiresIn = 3600, claims = {}, rolesClaim = 'roles' }) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...claims, [rolesClaim]: roles })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt(now);
    if (expiresIn !== null) jwt.setExpirationTime(now + expiresIn);
    return jwt.sign(key);
  };
}
