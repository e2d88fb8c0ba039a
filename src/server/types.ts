import type { JsonValue } from '../protocol/messages.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerLimitsOption } from './limits.js';
import type { Logger } from './logger.js';
import type { HealthReport, OperationsHandler, OperationsOptions, ServerCounts } from './operations/endpoints.js';
import type { AttachOptions } from './transport/attach.js';
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
 * Options of {@link createSessionServer}. Only `auth` is required. Without `server` or
 * `noServer` (see {@link AttachOptions}) the server listens on `port` and `host` itself.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: SessionServerOptions = { port: 0, auth: { secret: process.env.SHARED_SESSION_SECRET } };
 * ```
 */
export interface SessionServerOptions extends AttachOptions {
  /** Paths of `GET /health` and `GET /metrics` (served by the own listener and by `httpHandler`). */
  operations?: OperationsOptions;
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
  /**
   * Log sink (pino-compatible: `logger: pino()` works), or `false` for silence. Default: one-line
   * console logs at level `info` ({@link createConsoleLogger}); per-session lines are `debug`.
   */
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
 * Counters returned by {@link SessionServer.stats}. `GET /health` serves the counts of it, never
 * `socketsByUser` (user ids stay in the process).
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { sockets, socketsByUser } = server.stats();
 * ```
 */
export interface SessionServerStats extends ServerCounts {
  /**
   * Open authenticated sockets per user (`sub`): in the process only (the testing kit's
   * `socketsForUser` reads it); never served over HTTP.
   */
  socketsByUser: Record<string, number>;
}

/**
 * A running reference server, however it gets its sockets: returned by {@link createSessionServer}
 * with `server` or `noServer` (with its own port it is a {@link SessionServer}).
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const sessions = await createSessionServer({ noServer: true, path: '/session', auth: { secret } });
 * httpServer.on('upgrade', (req, socket, head) => {
 *   if (sessions.shouldHandle(req)) sessions.handleUpgrade(req, socket, head);
 * });
 * ```
 */
export interface AttachedSessionServer {
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
   * Whether an upgrade request is for this server: its path is `path` (always, without `path`).
   *
   * @param request - an HTTP upgrade request
   */
  shouldHandle(request: IncomingMessage): boolean;
  /**
   * Takes an HTTP upgrade (the `upgrade` event's arguments): opens a session socket, or answers
   * 404 (another `path`), 403 (an origin outside `allowedOrigins`) or 503 (shutting down) and
   * destroys the socket. For frameworks that own the upgrade (`noServer: true`).
   *
   * @param request - the upgrade request
   * @param socket - its socket
   * @param head - the first bytes after the request head
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Connect-style handler of `GET /health` and `GET /metrics` (paths from `operations`) to mount
   * in the app (`app.use(sessions.httpHandler)`); other requests go to `next`, or get 404.
   */
  readonly httpHandler: OperationsHandler;
  /** Liveness, readiness (the store answers) and counts: what `GET /health` answers. */
  health(): Promise<HealthReport>;
  /** The counters in Prometheus text format: what `GET /metrics` answers. */
  metrics(): Promise<string>;
  /**
   * Destroys sockets without a close handshake (clients see 1006), all of them or those of one
   * user. For tests of network failures.
   *
   * @param userId - only this user's authenticated sockets
   * @returns the number of sockets destroyed
   */
  terminateSockets(userId?: string): number;
  /**
   * Ends sessions as their token's expiry does, now: every authenticated socket (all, or those of
   * one user) is closed with 4002 TOKEN_EXPIRED, `"token expired"`. The host reports
   * `onSessionError('TOKEN_EXPIRED')` in every tab and waits for a new token
   * (`updateSessionToken` or `startSession`). For tests of expiry without waiting for `exp`; only
   * this process's sockets (another process behind a load balancer keeps its own).
   *
   * @param userId - only this user's sessions
   * @returns the number of sockets closed
   * @example
   * ```ts
   * server.expireSessions('alice'); // alice's tabs get TOKEN_EXPIRED
   * ```
   */
  expireSessions(userId?: string): number;
  /**
   * Closes every socket with 4503 SERVER_SHUTDOWN, then its own HTTP server (never the app's
   * `server`: it only stops listening to its upgrades), then the topic store when the server
   * opened it (`'memory'`, `{ path }` or `{ redis }`, not a store passed in). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * A running reference server on its own port, returned by {@link createSessionServer}.
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
export interface SessionServer extends AttachedSessionServer {
  /** WebSocket URL, e.g. `ws://127.0.0.1:8787` (plus `path` when given; otherwise any path is accepted). */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
}
