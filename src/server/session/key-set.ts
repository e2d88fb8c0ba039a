import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwksCache,
  type ExportedJWKSCache,
  type JWTVerifyGetKey,
} from 'jose';
import { describeError, type Logger } from '../logger.js';

/**
 * The remote JSON Web Key Set of an identity provider, with jose's `createRemoteJWKSet` tuned and
 * its failures sorted: a key set that cannot be had right now (the endpoint down, answering 500 or
 * non-JSON, an invalid key set, a timeout) is an **outage** — {@link KeySetUnavailableError}, which
 * the server answers with 1013 "try again later", never with the fatal 4001 — while a token whose
 * `kid` the (fetched) set does not hold is the token's fault. During an outage the last key set
 * fetched keeps verifying tokens for {@link DEFAULT_JWKS_STALE_IF_ERROR_MS}.
 *
 * @module
 */

/**
 * Time allowed for one key-set fetch (5 s): a `hello` waits at most this long for the keys.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, jwks: { timeoutMs: DEFAULT_JWKS_TIMEOUT_MS * 2 } } });
 * ```
 */
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

/**
 * Time after a successful fetch during which a token with an unknown `kid` does not fetch the set
 * again (30 s): a flood of tokens with made-up `kid`s costs the identity provider one fetch per
 * cooldown, while a key rotated in at the provider is picked up within this time.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, jwks: { cooldownMs: DEFAULT_JWKS_COOLDOWN_MS } } });
 * ```
 */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;

/**
 * Age after which the cached key set is fetched again before use (10 min), so a key the provider
 * removed stops verifying within this time. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, jwks: { cacheMaxAgeMs: DEFAULT_JWKS_CACHE_MAX_AGE_MS / 2 } } });
 * ```
 */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;

/**
 * How long after its fetch the last key set keeps verifying tokens while the endpoint is down
 * (1 h): a short outage of the provider's JWKS endpoint refuses nobody. `0` turns it off.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, jwks: { staleIfErrorMs: 0 } } });
 * ```
 */
export const DEFAULT_JWKS_STALE_IF_ERROR_MS = 60 * 60_000;

/**
 * After a failed fetch, how long hellos do not fetch again (1 s): they are answered from the last
 * keys (stale-if-error) or refused with 1013 at once, so an outage with thousands of reconnecting
 * hosts costs the provider one fetch a second, not one per hello.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * createSessionServer({ auth: { jwksUrl, jwks: { retryAfterMs: DEFAULT_JWKS_RETRY_AFTER_MS * 5 } } });
 * ```
 */
export const DEFAULT_JWKS_RETRY_AFTER_MS = 1_000;

/**
 * Tuning of the remote key set (`auth.jwks`); every field defaults to its `DEFAULT_JWKS_*` constant.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const jwks: JwksOptions = { timeoutMs: 2_000, cooldownMs: 10_000 };
 * ```
 */
export interface JwksOptions {
  /** Time allowed for one fetch. Default {@link DEFAULT_JWKS_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** No refetch for an unknown `kid` this long after a fetch. Default {@link DEFAULT_JWKS_COOLDOWN_MS}. */
  cooldownMs?: number;
  /** Cached keys older than this are fetched again. Default {@link DEFAULT_JWKS_CACHE_MAX_AGE_MS}. */
  cacheMaxAgeMs?: number;
  /** The last keys keep working this long after their fetch when fetching fails. Default {@link DEFAULT_JWKS_STALE_IF_ERROR_MS}. */
  staleIfErrorMs?: number;
  /** No new fetch this long after a failed one. Default {@link DEFAULT_JWKS_RETRY_AFTER_MS}. */
  retryAfterMs?: number;
  /** Extra request headers (for example an API key of a gateway in front of the provider). */
  headers?: Record<string, string>;
}

/**
 * The key set could not be fetched or used: not the token's fault. The verifier turns it into a
 * `SessionError` with code `INTERNAL`, which closes a `hello` with 1013.
 */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError' as const;
}

/**
 * A jose key getter over the remote key set at `url`, tuned by `options`, whose outages reject
 * with {@link KeySetUnavailableError} and are logged once when they start and once when they end.
 *
 * @param url - the JWKS URL (already parsed)
 * @param options - tuning
 * @param logger - where outages are reported
 * @throws TypeError for an invalid tuning value
 */
export function createKeySet(url: URL, options: JwksOptions = {}, logger?: Logger): JWTVerifyGetKey {
  const timeoutMs = duration(options.timeoutMs, DEFAULT_JWKS_TIMEOUT_MS, 'timeoutMs');
  const staleIfErrorMs = duration(options.staleIfErrorMs, DEFAULT_JWKS_STALE_IF_ERROR_MS, 'staleIfErrorMs');
  const retryAfterMs = duration(options.retryAfterMs, DEFAULT_JWKS_RETRY_AFTER_MS, 'retryAfterMs');
  // jose writes the last good set and its fetch time here; it is what an outage falls back to.
  const cache = {} as ExportedJWKSCache;
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: Math.ceil(timeoutMs),
    cooldownDuration: duration(options.cooldownMs, DEFAULT_JWKS_COOLDOWN_MS, 'cooldownMs'),
    cacheMaxAge: duration(options.cacheMaxAgeMs, DEFAULT_JWKS_CACHE_MAX_AGE_MS, 'cacheMaxAgeMs'),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    [jwksCache]: cache,
  });
  const where = `${url.origin}${url.pathname}`;
  /** When the last fetch failed, while the outage lasts. */
  let failedAt: number | undefined;
  let lastError: unknown;
  let stale: { uat: number; getKey: JWTVerifyGetKey } | undefined;

  /** The last keys when they may stand in during an outage, else the outage as an error. */
  const fallback: JWTVerifyGetKey = (header, token) => {
    if (cache.jwks !== undefined && Date.now() - cache.uat < staleIfErrorMs) {
      if (stale?.uat !== cache.uat) stale = { uat: cache.uat, getKey: createLocalJWKSet(cache.jwks) };
      return stale.getKey(header, token);
    }
    throw new KeySetUnavailableError(`key set at ${where} unavailable: ${describeError(lastError)}`, {
      cause: lastError,
    });
  };

  return async (header, token) => {
    if (failedAt !== undefined && Date.now() - failedAt < retryAfterMs) return fallback(header, token);
    try {
      const key = await remote(header, token);
      if (failedAt !== undefined) logger?.info({ jwksUrl: where }, 'key set reachable again');
      failedAt = undefined;
      return key;
    } catch (error) {
      // Errors about the token's key, once the set is in hand: the token's fault.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      if (failedAt === undefined) logger?.warn({ jwksUrl: where, err: describeError(error) }, 'key set unavailable');
      failedAt = Date.now();
      lastError = error;
      return fallback(header, token);
    }
  };
}

function duration(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(`"auth.jwks.${name}" must be a non-negative number of milliseconds`);
  }
  return value;
}
