import type { JsonValue } from '../protocol/messages.js';
import type { ServerLimitsOption } from './limits.js';
import type { Logger } from './logger.js';
import type { TopicStoreOption } from './open-store.js';
import type { SessionRegistry } from './session/registry.js';
import type { AuthOptions } from './session/token-verifier.js';
import type { ChangeFeed } from './topics/change-feed.js';
import type { TopicPermissions } from './topics/permissions.js';
import type { RateLimitOptions } from './transport/flow-control.js';

/**
 * The public shapes of the reference server: its options, the running server and its counters.
 * The option types of each concept live with it (`AuthOptions` in `session/token-verifier.ts`,
 * `RateLimitOptions` in `transport/flow-control.ts`, `Logger` in `logger.ts`, …).
 *
 * @module
 */

/**
 * Schema versions the server serves. A `hello` with another `schemaVersion` is closed with 4004;
 * a `hello` without one is accepted. Without this option every version is accepted.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const schema: SchemaOptions = { versions: [3, 4] };
 * ```
 */
export interface SchemaOptions {
  /** One served version. */
  version?: number;
  /** Several served versions (merged with `version`). */
  versions?: readonly number[];
}

/**
 * Options of {@link createSessionServer}. Only `auth` is required.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: SessionServerOptions = { port: 0, auth: { secret: process.env.SHARED_SESSION_SECRET } };
 * ```
 */
export interface SessionServerOptions {
  /** TCP port; `0` picks a free one. Default {@link DEFAULT_PORT}. */
  port?: number;
  /** Interface to bind. Default {@link DEFAULT_HOST} (loopback only). */
  host?: string;
  /** Token verification. */
  auth: AuthOptions;
  /** Served schema versions. */
  schema?: SchemaOptions;
  /** Largest accepted frame in bytes; larger closes with 4009. Default {@link DEFAULT_MAX_PAYLOAD_BYTES}. */
  maxPayloadBytes?: number;
  /**
   * Per-connection rate limit, or `false` for none. Default {@link DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND}
   * per second with a burst of {@link DEFAULT_RATE_LIMIT_BURST}.
   */
  rateLimit?: RateLimitOptions | false;
  /** WebSocket ping interval. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  heartbeatIntervalMs?: number;
  /** Time allowed for the first frame. Default {@link DEFAULT_HELLO_TIMEOUT_MS}. */
  helloTimeoutMs?: number;
  /** Log sink, or `false` for silence. Default: one-line logs on the console. */
  logger?: Logger | false;
  /**
   * Where session ids and their owners are remembered. Default: the Redis registry with
   * `store: { redis }`, else an in-memory registry ({@link createMemorySessionRegistry}) that
   * forgets idle sessions after 24 h.
   */
  sessionRegistry?: SessionRegistry;
  /**
   * Who may read and write which topic: patterns (`*`, `{sub}`) mapped to roles, first match wins.
   * Default: every authenticated user may read and write every topic except other users'
   * `user:<sub>` topics, which are private to their user whatever this option says unless a
   * `user:` pattern decides otherwise. See {@link TopicPermissions}.
   */
  permissions?: TopicPermissions;
  /**
   * Where topics are kept: `'memory'` (default; lost on exit), `{ path }` for the durable LMDB
   * store in that directory, `{ redis: url, keyPrefix? }` for several server processes behind a
   * load balancer (topic logs in Redis Streams, fan-out over Redis pub/sub, sessions in Redis:
   * `changeFeed` and `sessionRegistry` default to the Redis ones), or a {@link TopicStore} you
   * opened and close yourself. The server opens the first three and closes them in `close()`.
   */
  store?: TopicStoreOption;
  /**
   * Largest `data` of one change in UTF-8 bytes of JSON; a larger `publish` is answered
   * `error` PAYLOAD_TOO_LARGE. Default {@link DEFAULT_MAX_CHANGE_BYTES} (256 KiB).
   */
  maxChangeBytes?: number;
  /**
   * How appended changes reach the shared subscriptions. Default: Redis pub/sub with
   * `store: { redis }`, else in-process ({@link createLocalChangeFeed}). A feed shared by several
   * processes lets each process fan out the changes the others appended to a shared store. A feed
   * passed here is not closed by `close()`.
   */
  changeFeed?: ChangeFeed;
  /**
   * The limits that hold under attack: pre-hello bytes, unauthenticated sockets, sockets per user,
   * subscriptions per connection, JSON depth, queues and send buffers, history, the publish quota
   * and topic retention. Any subset; see {@link ServerLimits} for every default.
   */
  limits?: ServerLimitsOption;
}

/**
 * Counters returned by {@link SessionServer.stats} and served as JSON on `GET /health`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { sockets, socketsByUser } = server.stats();
 * ```
 */
export interface SessionServerStats {
  /** Distinct session ids with at least one open authenticated socket. */
  sessions: number;
  /** Open sockets, authenticated or not. */
  sockets: number;
  /** Connection-level topic subscriptions (a connection subscribed to 3 topics counts 3). */
  subscriptions: number;
  /** Shared fan-out groups: one per (topic, effective read permission) that has subscribers. */
  topics: number;
  /** `change` frames sent since the server started (catch-up and live, all connections). */
  changesSent: number;
  /** Changes appended since the server started, from clients and `publish()`; duplicates excluded. */
  changesStored: number;
  /** Sockets accepted since the server started. */
  socketsOpened: number;
  /** Open authenticated sockets per user (`sub`). */
  socketsByUser: Record<string, number>;
}

/**
 * A running reference server, returned by {@link createSessionServer}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const server = await createSessionServer({ port: 0, auth: { secret } });
 * console.log(server.url, server.stats().sockets);
 * await server.close();
 * ```
 */
export interface SessionServer {
  /** WebSocket URL, e.g. `ws://127.0.0.1:8787`. The upgrade is accepted on any path. */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Current counters. */
  stats(): SessionServerStats;
  /**
   * Appends a change to a topic as the server (no permission check) and fans it out to every
   * subscriber.
   *
   * @param topic - 1–256 printable characters
   * @param data - any JSON value, at most `maxChangeBytes` as JSON
   * @returns the change's seq, once it is stored
   * @throws TypeError for a bad topic or data that is not JSON, RangeError for data over the
   *   limit (as rejections); the store's error when the append fails
   * @example
   * ```ts
   * const { seq } = await server.publish('public:news', { title: 'Deploy finished' });
   * ```
   */
  publish(topic: string, data: JsonValue): Promise<{ seq: number }>;
  /**
   * Destroys sockets without a close handshake (clients see 1006), all of them or those of one
   * user. For tests of network failures.
   *
   * @param userId - only this user's authenticated sockets
   * @returns the number of sockets destroyed
   */
  terminateSockets(userId?: string): number;
  /**
   * Closes every socket with 4503 SERVER_SHUTDOWN, then the HTTP server, then the topic store when
   * the server opened it (`'memory'` or `{ path }`, not a store passed in). Idempotent.
   */
  close(): Promise<void>;
}
