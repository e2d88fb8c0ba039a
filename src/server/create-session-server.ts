import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import { SHUTDOWN_GRACE_MS } from './constants.js';
import { describeError } from './logger.js';
import { openTopicStore } from './open-store.js';
import { resolveOptions } from './options.js';
import { Connection, type ConnectionHost } from './session/connection.js';
import { LiveConnections } from './session/live-connections.js';
import { createMemorySessionRegistry } from './session/registry.js';
import { createLocalChangeFeed } from './topics/change-feed.js';
import { TopicService } from './topics/service.js';
import { createHttpHandler, listen, webSocketUrl } from './transport/http.js';
import { Heartbeat } from './transport/socket.js';
import { createSocketServer } from './transport/upgrade.js';
import type { SessionServer, SessionServerOptions, SessionServerStats } from './types.js';

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
  const resolved = resolveOptions(options);
  const { logger, changeFeed: givenFeed } = resolved;
  // Opened after the options were checked, so that an invalid option never leaves a store open. A
  // Redis store brings the feed and the session registry that the processes sharing it need.
  const opened = await openTopicStore(
    options.store,
    (error) => logger.error(`redis: ${describeError(error)}`),
    resolved.limits.retention,
  );
  const registry = options.sessionRegistry ?? opened.sessionRegistry ?? createMemorySessionRegistry();
  const feed =
    givenFeed ??
    opened.changeFeed ??
    createLocalChangeFeed((error) => logger.error(`change listener failed: ${describeError(error)}`));
  const topics = new TopicService({
    store: opened.store,
    feed,
    access: resolved.access,
    logger,
    maxChangeBytes: resolved.maxChangeBytes,
    limits: resolved.limits,
  });
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
    verifier: resolved.verifier,
    registry,
    schemaVersions: resolved.schemaVersions,
    rateLimit: resolved.rateLimit,
    logger,
    topics,
    limits: resolved.limits,
    socketsOfUser: (userId) => live.ofUser(userId),
    opened: (connection) => live.add(connection),
    closed: (connection) => live.delete(connection),
    ended: (key) => {
      for (const connection of live.ofSession(key)) connection.close(CloseCode.SESSION_ENDED, 'session ended');
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

  const heartbeat = new Heartbeat(
    resolved.heartbeatIntervalMs,
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
  const socketServer = createSocketServer({
    maxPayloadBytes: resolved.maxPayloadBytes,
    admission: {
      maxUnauthenticated: resolved.limits.maxUnauthenticatedSockets,
      maxUnauthenticatedPerIp: resolved.limits.maxUnauthenticatedPerIp,
      maxPreHelloBytes: resolved.limits.maxPreHelloBytes,
    },
    logger,
    accept(ws, ticket) {
      socketsOpened++;
      const connection = new Connection(ws, connectionHost, { helloTimeoutMs: resolved.helloTimeoutMs, ticket });
      sockets.set(ws, connection);
      heartbeat.track(ws);
      if (closing !== undefined) connection.close(CloseCode.SERVER_SHUTDOWN, 'server shutting down');
      return connection;
    },
    closed: (ws) => sockets.delete(ws),
  });
  const http = createServer(createHttpHandler(stats));
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing !== undefined) socket.destroy();
    else socketServer.handleUpgrade(req, socket, head);
  });

  let boundPort: number;
  try {
    boundPort = await listen(http, resolved.port, resolved.host);
  } catch (error) {
    heartbeat.stop();
    await closeTopics().catch(() => {});
    throw error;
  }
  http.on('error', (error) => logger.error(`http server error: ${error.message}`));
  const url = webSocketUrl(resolved.host, boundPort);
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
    socketServer.close();
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
