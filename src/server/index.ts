/**
 * The reference server of shared-session, for Node ≥ 20. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * import { createSessionServer } from 'shared-session/server';
 *
 * const server = await createSessionServer({ port: 8787, auth: { secret: process.env.SHARED_SESSION_SECRET } });
 * console.log(server.url); // ws://127.0.0.1:8787
 * ```
 *
 * @module
 */
export { createSessionServer } from './create-session-server.js';
export { createLocalChangeFeed, type ChangeFeed, type ChangeListener } from './topics/change-feed.js';
export {
  TOPIC_SEGMENT_SEPARATOR,
  USER_TOPIC_PREFIX,
  type TopicPermissions,
  type TopicRule,
} from './topics/permissions.js';
export { DEFAULT_LIMITS, resolveLimits, type ServerLimits, type ServerLimitsOption } from './limits.js';
export { DEFAULT_RETENTION, resolveRetention, type TopicRetention } from './store/retention.js';
export type { TopicStoreOption } from './open-store.js';
export { openRedisBackend, type RedisBackend, type RedisBackendOptions } from './redis/backend.js';
export { openRedisTopicStore, type RedisStoreOptions } from './redis/store.js';
export { DEFAULT_REDIS_KEY_PREFIX, REDIS_CONNECT_TIMEOUT_MS, REDIS_MAX_RETRIES_PER_REQUEST } from './redis/keys.js';
export * from './store/index.js';
export type {
  AttachedSessionServer,
  SchemaOptions,
  SessionServer,
  SessionServerOptions,
  SessionServerStats,
} from './types.js';
export {
  createConsoleLogger,
  DEFAULT_LOG_LEVEL,
  LOG_LEVELS,
  type ConsoleLoggerOptions,
  type LogFields,
  type LogFn,
  type Logger,
  type LogLevel,
} from './logger.js';
export type { AttachOptions, UpgradeRejection } from './transport/attach.js';
export type { OperationsCounts } from './operations/counters.js';
export {
  HEALTH_CHECK_TIMEOUT_MS,
  HEALTH_PATH,
  METRICS_PATH,
  type HealthReport,
  type OperationsHandler,
  type OperationsOptions,
  type ServerCounts,
} from './operations/endpoints.js';
export {
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_RETRY_AFTER_MS,
  DEFAULT_JWKS_STALE_IF_ERROR_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  type JwksOptions,
} from './session/key-set.js';
export { DEFAULT_VERIFY_TIMEOUT_MS, type VerifiedIdentity, type VerifyToken } from './session/custom-verifier.js';
export {
  createMemorySessionRegistry,
  sessionKey,
  type AttachResult,
  type MemorySessionRegistry,
  type MemorySessionRegistryOptions,
  type SessionRegistry,
} from './session/registry.js';
export {
  ASYMMETRIC_ALGORITHMS,
  createTokenVerifier,
  HMAC_ALGORITHMS,
  type AuthOptions,
  type TokenVerifier,
  type VerifiedToken,
} from './session/token-verifier.js';
export { RateLimiter, type RateLimitOptions, type RateVerdict } from './transport/flow-control.js';
export { CLI_USAGE, EXIT_USAGE, runCli, SECRET_ENV_VAR, type CliContext } from './run-cli.js';
export * from './constants.js';
export { MissingPeerDependencyError, LMDB_PEER, IOREDIS_PEER } from './optional-peer.js';
