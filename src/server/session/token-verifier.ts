import { createPublicKey, KeyObject, webcrypto } from 'node:crypto';
import { errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions, type KeyInput } from 'jose';
import { SessionError, TokenExpiredError, UnauthorizedError } from '../../errors/index.js';
import { DEFAULT_ROLES_CLAIM, identityFromClaims, type TokenIdentity } from '../../shared/token-claims.js';
import type { Logger } from '../logger.js';
import { DEFAULT_VERIFY_TIMEOUT_MS, verifyWithCallback, type VerifyToken } from './custom-verifier.js';
import { createKeySet, KeySetUnavailableError, type JwksOptions } from './key-set.js';

/**
 * How the server verifies tokens. Give exactly one of `secret`, `publicKey`, `jwksUrl` (a JWT
 * verified with jose) or `verify` (your own check, for opaque tokens and custom identity
 * providers). Recipes per identity provider: docs/identity-providers.md.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const auth: AuthOptions = {
 *   jwksUrl: 'https://tenant.eu.auth0.com/.well-known/jwks.json',
 *   issuer: 'https://tenant.eu.auth0.com/',
 *   audience: 'https://api.example.com',
 *   rolesClaim: 'https://example.com/roles',
 *   clockTolerance: 5,
 * };
 * ```
 */
export interface AuthOptions {
  /** Shared secret for HS256/HS384/HS512 (a string is UTF-8 encoded). */
  secret?: string | Uint8Array;
  /** Public key for asymmetric algorithms: an SPKI PEM string, a `CryptoKey` or a Node `KeyObject`. */
  publicKey?: string | webcrypto.CryptoKey | KeyObject;
  /**
   * URL of a JSON Web Key Set; keys are fetched, cached and refreshed by jose's `createRemoteJWKSet`
   * (tuned by `jwks`). A key set that cannot be fetched closes a `hello` with 1013 (try again
   * later), never with 4001.
   */
  jwksUrl?: string | URL;
  /** Tuning of the `jwksUrl` key set: timeout, cooldown, cache age, stale-if-error. */
  jwks?: JwksOptions;
  /**
   * Your own token check in place of JWT verification (opaque tokens, custom identity providers):
   * resolves with `{ sub, roles?, exp? }` (`exp` in seconds). What it throws refuses the token as
   * UNAUTHORIZED, except a `SessionError`, which keeps its code (`INTERNAL` → 1013 at `hello`).
   * `welcome.rolesClaim` is then `null`. Not combinable with `rolesClaim`, `issuer`, `audience`
   * or `algorithms`.
   */
  verify?: VerifyToken;
  /** Time `verify` has to answer before the token is refused as `INTERNAL`. Default {@link DEFAULT_VERIFY_TIMEOUT_MS}. */
  verifyTimeoutMs?: number;
  /**
   * Accepted `alg` header values. Default: HS256/HS384/HS512 with `secret`, every asymmetric JWS
   * algorithm otherwise. `none` is never accepted.
   */
  algorithms?: string[];
  /** Required `iss` (one of them, when a list). */
  issuer?: string | string[];
  /** Required `aud` (one of them, when a list). */
  audience?: string | string[];
  /**
   * Claim holding the roles (an array of strings or a space-separated string): a claim name, a dot
   * path into nested claims (`realm_access.roles`) or a URL claim (`https://example.com/roles`).
   * Default `'roles'`.
   */
  rolesClaim?: string;
  /**
   * Seconds of clock skew tolerated for `exp` and `nbf` (the expiry timer fires this much after
   * `exp`). Default 0.
   */
  clockTolerance?: number;
  /** @deprecated Use `clockTolerance` (same meaning). */
  clockToleranceSec?: number;
}

/**
 * Algorithms accepted with a shared `secret` when `algorithms` is not given.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { secret, algorithms: HMAC_ALGORITHMS.filter((a) => a !== 'HS256') } });
 * ```
 */
export const HMAC_ALGORITHMS: readonly string[] = ['HS256', 'HS384', 'HS512'];

/**
 * Algorithms accepted with a `publicKey` or `jwksUrl` when `algorithms` is not given.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, algorithms: ASYMMETRIC_ALGORITHMS.filter((a) => a.startsWith('ES')) } });
 * ```
 */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/**
 * What the server learns from a verified token: the identity its claims carry (`sub`, the roles
 * sorted and deduplicated, `exp` in epoch ms or `null`), mapped by the one claims mapping the host
 * shares (`identityFromClaims`). Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { userId, roles, expiresAt }: VerifiedToken = await verifier.verify(token);
 * ```
 */
export type VerifiedToken = TokenIdentity;

/**
 * Verifies a compact JWS and reads the session's identity from it. Rejects with a `SessionError`
 * whose message is short enough for a close reason: `UnauthorizedError`, `TokenExpiredError`, or
 * code `INTERNAL` when the key set could not be fetched (the token may well be valid).
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const verifier: TokenVerifier = createTokenVerifier({ secret });
 * await verifier.verify(token).catch((err: SessionError) => console.log(err.code, err.message));
 * ```
 */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
  /** Seconds of clock skew tolerated for `exp`; the expiry timer fires this much after `exp`. */
  readonly clockToleranceSec: number;
  /**
   * The claim path roles are read from (`welcome.rolesClaim`), or `null` when `auth.verify`
   * decides them: the host decodes a token's roles exactly as the server does.
   */
  readonly rolesClaim: string | null;
}

type VerificationKey = KeyInput | JWTVerifyGetKey;

function resolveKey(
  auth: AuthOptions,
  logger: Logger | undefined,
): { key: VerificationKey; allowed: readonly string[] } {
  if (auth.secret !== undefined) {
    const secret = typeof auth.secret === 'string' ? new TextEncoder().encode(auth.secret) : auth.secret;
    if (!(secret instanceof Uint8Array) || secret.length === 0) {
      throw new TypeError('"auth.secret" must be a non-empty string or Uint8Array');
    }
    return { key: hmacKeys(secret), allowed: HMAC_ALGORITHMS };
  }
  if (auth.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(auth.jwksUrl);
    } catch (cause) {
      throw new TypeError('"auth.jwksUrl" must be an absolute URL', { cause });
    }
    return { key: createKeySet(url, auth.jwks, logger), allowed: ASYMMETRIC_ALGORITHMS };
  }
  const publicKey = auth.publicKey;
  if (typeof publicKey === 'string') {
    // createPublicKey parses any SPKI PEM once at startup (failing fast) and jose accepts the
    // KeyObject for every asymmetric alg, so no per-alg importSPKI is needed.
    try {
      return { key: createPublicKey(publicKey), allowed: ASYMMETRIC_ALGORITHMS };
    } catch (cause) {
      throw new TypeError('"auth.publicKey" is not a PEM public key', { cause });
    }
  }
  if (publicKey instanceof KeyObject) {
    if (publicKey.type === 'secret') throw new TypeError('"auth.publicKey" must be a public key; use "secret"');
    return { key: publicKey, allowed: ASYMMETRIC_ALGORITHMS };
  }
  // A Web Crypto CryptoKey; jose checks its algorithm against the token's.
  return { key: publicKey as KeyInput, allowed: ASYMMETRIC_ALGORITHMS };
}

/**
 * The secret as one Web Crypto HMAC key per algorithm, imported on first use and kept: given the
 * raw bytes, jose imports a key for every token it verifies (its cache holds CryptoKeys and key
 * objects only), which was a sizeable share of a session's start. jose checks the token's `alg`
 * against the allowed algorithms before it asks for the key, and the key's hash against `alg`.
 *
 * @param secret - the shared secret's bytes (copied: a caller's later change has no effect)
 */
function hmacKeys(secret: Uint8Array): JWTVerifyGetKey {
  const raw = secret.slice();
  const keys = new Map<string, Promise<webcrypto.CryptoKey>>();
  return ({ alg }) => {
    if (typeof alg !== 'string' || !HMAC_ALGORITHMS.includes(alg))
      throw new errors.JOSEAlgNotAllowed(`"alg" ${alg} not allowed`);
    let key = keys.get(alg);
    if (key === undefined) {
      const algorithm = { name: 'HMAC', hash: `SHA-${alg.slice(2)}` };
      key = webcrypto.subtle.importKey('raw', raw, algorithm, false, ['verify']);
      key.catch(() => keys.delete(alg)); // a failed import is tried again by the next token
      keys.set(alg, key);
    }
    return key;
  };
}

function resolveAlgorithms(requested: string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed];
  if (!Array.isArray(requested) || requested.length === 0) {
    throw new TypeError('"auth.algorithms" must be a non-empty array of JWS algorithm names');
  }
  for (const alg of requested) {
    if (!allowed.includes(alg)) {
      throw new TypeError(`"auth.algorithms" contains ${JSON.stringify(alg)}, which this key cannot verify`);
    }
  }
  return [...requested];
}

/**
 * Maps a jose failure to a short, non-secret reason (it becomes a close reason, ≤ 123 bytes). A key
 * set that cannot be fetched is not the token's fault: it yields code `INTERNAL`, not UNAUTHORIZED.
 */
function rejection(cause: unknown): SessionError {
  if (cause instanceof errors.JWTExpired) return new TokenExpiredError('token expired', { cause });
  if (cause instanceof errors.JWTClaimValidationFailed) {
    const what =
      cause.claim === 'nbf'
        ? 'token not yet valid (nbf)'
        : cause.claim === 'iss'
          ? 'token issuer not accepted'
          : cause.claim === 'aud'
            ? 'token audience not accepted'
            : `token claim ${JSON.stringify(cause.claim.slice(0, 32))} invalid`;
    return new UnauthorizedError(what, { cause });
  }
  if (cause instanceof errors.JOSEAlgNotAllowed || cause instanceof errors.JOSENotSupported) {
    return new UnauthorizedError('token algorithm not accepted', { cause });
  }
  if (cause instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthorizedError('token signature invalid', { cause });
  }
  if (cause instanceof errors.JWSInvalid || cause instanceof errors.JWTInvalid) {
    return new UnauthorizedError('token is not a valid JWT', { cause });
  }
  if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys) {
    return new UnauthorizedError('no key matches the token', { cause });
  }
  // The key set's outages (down, 500, not JSON, invalid, timeout) come wrapped by createKeySet.
  if (cause instanceof KeySetUnavailableError) return new SessionError('INTERNAL', 'key set unavailable', { cause });
  return new UnauthorizedError('token refused', { cause });
}

/**
 * Builds the verifier for `auth`: HS256/384/512 with a secret, an asymmetric algorithm with a public
 * key, keys from a JWKS URL, or the app's own `verify`. For JWTs, checks signature, `alg` (never
 * `none`), `exp`, `nbf`, `iss` and `aud` when configured, and requires `sub`; reads the roles from
 * `rolesClaim` (a name, dot path or URL claim).
 *
 * Import from `shared-session/server`.
 *
 * @param auth - key and claim requirements
 * @param logger - where key-set outages are reported (once when they start, once when they end)
 * @throws TypeError when `auth` is inconsistent (no key, two keys, unusable algorithms, options `verify` ignores)
 * @example
 * ```ts
 * const verifier = createTokenVerifier({ secret: 's3cret', issuer: 'demo' });
 * const { userId, roles, expiresAt } = await verifier.verify(token);
 * ```
 */
export function createTokenVerifier(auth: AuthOptions, logger?: Logger): TokenVerifier {
  if (typeof auth !== 'object' || auth === null) throw new TypeError('"auth" must be an object');
  const given = [auth.secret, auth.publicKey, auth.jwksUrl, auth.verify].filter((v) => v !== undefined).length;
  if (given !== 1) throw new TypeError('"auth" needs exactly one of "secret", "publicKey", "jwksUrl" or "verify"');
  const clockToleranceSec = resolveClockTolerance(auth);
  if (auth.verify !== undefined) return callbackVerifier(auth, auth.verify, clockToleranceSec);
  if (auth.verifyTimeoutMs !== undefined) throw new TypeError('"auth.verifyTimeoutMs" needs "auth.verify"');
  if (auth.jwks !== undefined && auth.jwksUrl === undefined) throw new TypeError('"auth.jwks" needs "auth.jwksUrl"');
  const { key, allowed } = resolveKey(auth, logger);
  const algorithms = resolveAlgorithms(auth.algorithms, allowed);
  const rolesClaim = auth.rolesClaim ?? DEFAULT_ROLES_CLAIM;
  if (typeof rolesClaim !== 'string' || rolesClaim.length === 0) {
    throw new TypeError('"auth.rolesClaim" must be a non-empty string');
  }
  const options: JWTVerifyOptions = { algorithms, clockTolerance: clockToleranceSec };
  if (auth.issuer !== undefined) options.issuer = auth.issuer;
  if (auth.audience !== undefined) options.audience = auth.audience;

  return {
    clockToleranceSec,
    rolesClaim,
    async verify(token) {
      let payload;
      try {
        // Two overloads (key vs getter) share this call; jose narrows at runtime.
        ({ payload } =
          typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
      } catch (cause) {
        throw rejection(cause);
      }
      // Throws UnauthorizedError for a missing or empty `sub`.
      return identityFromClaims(payload, rolesClaim);
    },
  };
}

/** `clockTolerance`, or its deprecated alias `clockToleranceSec`; both must agree when both are given. */
function resolveClockTolerance(auth: AuthOptions): number {
  const { clockTolerance, clockToleranceSec } = auth;
  if (clockTolerance !== undefined && clockToleranceSec !== undefined && clockTolerance !== clockToleranceSec) {
    throw new TypeError('give "auth.clockTolerance" only ("auth.clockToleranceSec" is its deprecated alias)');
  }
  const seconds = clockTolerance ?? clockToleranceSec ?? 0;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new TypeError('"auth.clockTolerance" must be a non-negative number of seconds');
  }
  return seconds;
}

function callbackVerifier(auth: AuthOptions, verify: VerifyToken, clockToleranceSec: number): TokenVerifier {
  if (typeof verify !== 'function') throw new TypeError('"auth.verify" must be a function');
  for (const name of ['rolesClaim', 'issuer', 'audience', 'algorithms', 'jwks'] as const) {
    if (auth[name] !== undefined) throw new TypeError(`"auth.${name}" has no effect with "auth.verify": remove it`);
  }
  const timeoutMs = auth.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('"auth.verifyTimeoutMs" must be a positive number');
  }
  return {
    clockToleranceSec,
    rolesClaim: null,
    verify: (token) => verifyWithCallback(verify, token, timeoutMs, clockToleranceSec),
  };
}
