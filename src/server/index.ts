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
export { createLocalChangeFeed, type ChangeFeed, type ChangeListener } from './change-feed.js';
export { USER_TOPIC_PREFIX, type TopicPermissions, type TopicRule } from './permissions.js';
export type { TopicStoreOption } from './open-store.js';
export { openRedisBackend, type RedisBackend, type RedisBackendOptions } from './redis-backend.js';
export * from './store/index.js';
export type {
  AuthOptions,
  Logger,
  RateLimitOptions,
  SchemaOptions,
  SessionServer,
  SessionServerOptions,
  SessionServerStats,
} from './types.js';
export {
  createMemorySessionRegistry,
  type AttachResult,
  type MemorySessionRegistry,
  type MemorySessionRegistryOptions,
  type SessionRegistry,
} from './session-registry.js';
export {
  ASYMMETRIC_ALGORITHMS,
  createTokenVerifier,
  HMAC_ALGORITHMS,
  type TokenVerifier,
  type VerifiedToken,
} from './auth.js';
export { RateLimiter, type RateVerdict } from './rate-limit.js';
export { createConsoleLogger } from './logger.js';
export { HEALTH_PATH } from './http-handler.js';
export { CLI_USAGE, EXIT_USAGE, runCli, SECRET_ENV_VAR, type CliContext } from './run-cli.js';
export * from './constants.js';
