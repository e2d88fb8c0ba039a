import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_CHANGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND,
} from './constants.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { resolveLogger, type Logger } from './logger.js';
import { createTokenVerifier, type TokenVerifier } from './session/token-verifier.js';
import type { ChangeFeed } from './topics/change-feed.js';
import { compilePermissions, type TopicAccess } from './topics/permissions.js';
import { resolvePlacement, type Placement } from './transport/attach.js';
import { RateLimiter, type RateLimitOptions } from './transport/flow-control.js';
import type { SchemaOptions, SessionServerOptions } from './types.js';

/**
 * The options of `createSessionServer` checked and completed with their defaults, before anything
 * is opened: an invalid option throws a `TypeError` here and never leaves a store or a port open.
 *
 * @module
 */

/** {@link SessionServerOptions} with every default applied and every part compiled. */
export interface ResolvedOptions {
  /** Where upgrades come from: the own listener (`port`, `host`), the app's `server`, or `noServer`. */
  placement: Placement;
  /** The endpoint's path; `undefined` accepts every path. */
  path: string | undefined;
  /** Compiled `allowedOrigins`; `undefined` allows every origin. */
  allowOrigin: ((origin: string) => boolean) | undefined;
  maxPayloadBytes: number;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  rateLimit: RateLimitOptions | false;
  logger: Required<Logger>;
  verifier: TokenVerifier;
  /** Served schema versions; `undefined` serves every version. */
  schemaVersions: ReadonlySet<number> | undefined;
  access: TopicAccess;
  maxChangeBytes: number;
  /** The feed passed in, which the server does not close. */
  changeFeed: ChangeFeed | undefined;
  /** Every limit, defaults applied (`limits.ts`). */
  limits: ServerLimits;
}

/**
 * Checks the options and applies the defaults of `constants.ts`.
 *
 * @param options - what the caller passed
 * @throws TypeError for an invalid option
 */
export function resolveOptions(options: SessionServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { placement, path, allowOrigin } = resolvePlacement(options, () => {
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
      throw new TypeError('"port" must be an integer 0–65535');
    const host = options.host ?? DEFAULT_HOST;
    if (typeof host !== 'string' || host.length === 0) throw new TypeError('"host" must be a non-empty string');
    return { port, host };
  });
  const logger = resolveLogger(options.logger);
  const rateLimit: RateLimitOptions | false =
    options.rateLimit === false
      ? false
      : (options.rateLimit ?? {
          messagesPerSecond: DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND,
          burst: DEFAULT_RATE_LIMIT_BURST,
        });
  if (rateLimit) new RateLimiter(rateLimit); // validates, throws TypeError
  const changeFeed = options.changeFeed;
  if (
    changeFeed !== undefined &&
    (typeof changeFeed.announce !== 'function' || typeof changeFeed.listen !== 'function')
  ) {
    throw new TypeError('"changeFeed" must have announce() and listen()');
  }
  return {
    placement,
    path,
    allowOrigin,
    maxPayloadBytes: positiveInteger(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes'),
    heartbeatIntervalMs: positiveInteger(
      options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      'heartbeatIntervalMs',
    ),
    helloTimeoutMs: positiveInteger(options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS, 'helloTimeoutMs'),
    rateLimit,
    logger,
    verifier: createTokenVerifier(options.auth, logger),
    schemaVersions: servedSchemaVersions(options.schema),
    access: compilePermissions(options.permissions),
    maxChangeBytes: positiveInteger(options.maxChangeBytes ?? DEFAULT_MAX_CHANGE_BYTES, 'maxChangeBytes'),
    changeFeed,
    limits: resolveLimits(options.limits),
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`"${name}" must be a positive integer`);
  return value;
}

function servedSchemaVersions(schema: SchemaOptions | undefined): ReadonlySet<number> | undefined {
  if (schema === undefined) return undefined;
  const versions = [...(schema.version === undefined ? [] : [schema.version]), ...(schema.versions ?? [])];
  if (versions.length === 0) return undefined;
  for (const version of versions) {
    if (!Number.isSafeInteger(version)) throw new TypeError('"schema" versions must be integers');
  }
  return new Set(versions);
}
