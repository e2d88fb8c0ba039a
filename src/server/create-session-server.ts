import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import { createTokenVerifier } from './auth.js';
import { createLocalChangeFeed } from './change-feed.js';
import { closeReason } from './close-reason.js';
import { Connection, type ConnectionHost } from './connection.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_CHANGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT_BURST,
  DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND,
  SHUTDOWN_GRACE_MS,
} from './constants.js';
import { Heartbeat } from './heartbeat.js';
import { createHttpHandler } from './http-handler.js';
import { LiveConnections } from './live-connections.js';
import { createConsoleLogger, silentLogger } from './logger.js';
import { openTopicStore } from './open-store.js';
import { compilePermissions } from './permissions.js';
import { RateLimiter } from './rate-limit.js';
import { createMemorySessionRegistry } from './session-registry.js';
import { TopicService } from './topic-service.js';
import type {
  RateLimitOptions,
  SchemaOptions,
  SessionServer,
  SessionServerOptions,
  SessionServerStats,
} from './types.js';

/** Close code `ws` uses when a frame exceeds `maxPayload` (it uses 1009 for nothing else). */
const WS_MESSAGE_TOO_BIG = 1009;

/**
 * Starts the reference server: a WebSocket endpoint (any path) that authenticates each socket with
 * a JWT in its first frame, keeps sessions resumable across reconnects, serves topics (subscribe
 * with a resumable cursor, publish exactly once by clientId, shared fan-out), and closes with a
 * 4xxx code for every refusal (see PROTOCOL.md). Plain `GET /health` returns
 * {@link SessionServer.stats} as JSON.
 *
 * Import from `shared-session/server`.
 *
 * @param options - port, host, token verification, topic permissions and store, limits; only `auth` is required
 * @returns the running server, once it listens
 * @throws TypeError for invalid options; the store's error when `store: { path }` cannot be opened;
 *   the listen error (e.g. `EADDRINUSE`) when the port is taken
 * @example
 * ```ts
 * import { createSessionServer } from 'shared-session/server';
 *
 * const server = await createSessionServer({
 *   port: 0,
 *   auth: { secret: 'dev-secret', audience: 'my-app' },
 *   store: { path: './data' },
 *   permissions: { 'public:*': { read: ['*'], write: ['admin'] }, 'user:{sub}': { read: ['*'], write: ['*'] } },
 * });
 * console.log(`listening on ${server.url}`);
 * process.on('SIGTERM', () => void server.close());
 * ```
 */
export async function createSessionServer(options: SessionServerOptions): Promise<SessionServer> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new TypeError('"port" must be an integer 0–65535');
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('"host" must be a non-empty string');
  const maxPayloadBytes = positiveInteger(options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, 'maxPayloadBytes');
  const heartbeatIntervalMs = positiveInteger(
    options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    'heartbeatIntervalMs',
  );
  const helloTimeoutMs = positiveInteger(options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS, 'helloTimeoutMs');
  const rateLimit: RateLimitOptions | false =
    options.rateLimit === false
      ? false
      : (options.rateLimit ?? {
          messagesPerSecond: DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND,
          burst: DEFAULT_RATE_LIMIT_BURST,
        });
  if (rateLimit) new RateLimiter(rateLimit); // validates, throws TypeError
  const logger = options.logger === false ? silentLogger : (options.logger ?? createConsoleLogger());
  const verifier = createTokenVerifier(options.auth);
  const schemaVersions = servedSchemaVersions(options.schema);
  const access = compilePermissions(options.permissions);
  const maxChangeBytes = positiveInteger(options.maxChangeBytes ?? DEFAULT_MAX_CHANGE_BYTES, 'maxChangeBytes');
  const givenFeed = options.changeFeed;
  if (givenFeed !== undefined && (typeof givenFeed.announce !== 'function' || typeof givenFeed.listen !== 'function')) {
    throw new TypeError('"changeFeed" must have announce() and listen()');
  }
  // Opened last among the options, so that an invalid option never leaves a store open. A Redis
  // store brings the feed and the session registry that the processes sharing it need.
  const opened = await openTopicStore(options.store, (error) => logger.error(`redis: ${describeError(error)}`));
  const registry = options.sessionRegistry ?? opened.sessionRegistry ?? createMemorySessionRegistry();
  const feed =
    givenFeed ??
    opened.changeFeed ??
    createLocalChangeFeed((error) => logger.error(`change listener failed: ${describeError(error)}`));
  const topics = new TopicService({ store: opened.store, feed, access, logger, maxChangeBytes });
  const closeTopics = async (): Promise<void> => {
    stopEnded?.();
    if (givenFeed === undefined && opened.changeFeed === undefined) await feed.close();
    await opened.close();
  };

  const live = new LiveConnections();
  const sockets = new Map<WebSocket, Connection>();
  let socketsOpened = 0;
  let closing: Promise<void> | undefined;

  const connectionHost: ConnectionHost = {
    verifier,
    registry,
    schemaVersions,
    rateLimit,
    logger,
    topics,
    opened: (connection) => live.add(connection),
    closed: (connection) => live.delete(connection),
    ended: (sessionId) => {
      for (const connection of live.ofSession(sessionId)) connection.close(CloseCode.SESSION_ENDED, 'session ended');
    },
  };

  // A registry shared by several processes reports sessions ended on any of them.
  const stopEnded = registry.onEnded?.((sessionId) => connectionHost.ended(sessionId));

  const stats = (): SessionServerStats => ({
    sessions: live.sessions,
    sockets: sockets.size,
    socketsOpened,
    socketsByUser: live.socketsByUser(),
    ...topics.stats(),
  });

  // ws closes an oversized frame's socket with 1009 before telling us; this subclass (the documented
  // `WebSocket` option of WebSocketServer) turns that close into our 4009.
  class SessionSocket extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      if (code === WS_MESSAGE_TOO_BIG) {
        super.close(CloseCode.MESSAGE_TOO_LARGE, closeReason(`message too large (limit ${maxPayloadBytes} bytes)`));
      } else {
        super.close(code, data);
      }
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: SessionSocket,
  });
  const http = createServer(createHttpHandler(stats));
  const heartbeat = new Heartbeat(
    heartbeatIntervalMs,
    () => sockets.keys(),
    () => {
      try {
        const pruned = registry.prune(Date.now());
        if (pruned instanceof Promise) pruned.catch((error: unknown) => logger.error(`prune failed: ${String(error)}`));
      } catch (error) {
        logger.error(`prune failed: ${String(error)}`);
      }
    },
  );

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing !== undefined) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  function accept(ws: WebSocket): void {
    socketsOpened++;
    const connection = new Connection(ws, connectionHost, helloTimeoutMs);
    sockets.set(ws, connection);
    heartbeat.track(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        connection.receive(isBinary ? '' : toText(data), isBinary);
      } catch (error) {
        logger.error(`frame handling failed: ${String(error)}`);
      }
    });
    ws.on('error', (error) => logger.warn(`socket error: ${error.message}`));
    ws.once('close', () => {
      sockets.delete(ws);
      connection.handleClose();
    });
    if (closing !== undefined) connection.close(CloseCode.SERVER_SHUTDOWN, 'server shutting down');
  }

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    heartbeat.stop();
    await closeTopics().catch(() => {});
    throw error;
  }
  http.on('error', (error) => logger.error(`http server error: ${error.message}`));

  const address = http.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `ws://${urlHost(host)}:${boundPort}`;
  logger.info(`server on ${url}: topics kept ${opened.description}`);

  async function shutdown(): Promise<void> {
    heartbeat.stop();
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    const socketsClosed = [...sockets].map(
      ([ws, connection]) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => resolve());
          connection.close(CloseCode.SERVER_SHUTDOWN, 'server shutting down');
        }),
    );
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(socketsClosed),
      new Promise<void>((resolve) => (grace = setTimeout(resolve, SHUTDOWN_GRACE_MS))),
    ]);
    clearTimeout(grace);
    for (const ws of sockets.keys()) ws.terminate();
    http.closeAllConnections();
    wss.close();
    await httpClosed;
    try {
      await closeTopics();
    } catch (error) {
      logger.error(`closing the topic store failed: ${describeError(error)}`);
    }
    logger.info(`server on ${url} closed`);
  }

  return {
    url,
    port: boundPort,
    stats,
    publish: (topic, data) => topics.publish(topic, data),
    terminateSockets(userId) {
      let count = 0;
      for (const [ws, connection] of sockets) {
        if (userId !== undefined && connection.session?.userId !== userId) continue;
        ws.terminate();
        count++;
      }
      return count;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
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

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A host usable in a URL: wildcard binds are reached on loopback, IPv6 literals get brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
