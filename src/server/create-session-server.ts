import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { WebSocket } from 'ws';
import { CloseCode } from '../protocol/close-codes.js';
import { SHUTDOWN_GRACE_MS } from './constants.js';
import { describeError } from './logger.js';
import { openTopicStore } from './open-store.js';
import { OperationsCounters } from './operations/counters.js';
import { Operations } from './operations/endpoints.js';
import { resolveOptions } from './options.js';
import { Connection, type ConnectionHost } from './session/connection.js';
import { closeExpired } from './session/expiry-timer.js';
import { LiveConnections } from './session/live-connections.js';
import { createMemorySessionRegistry } from './session/registry.js';
import { createLocalChangeFeed } from './topics/change-feed.js';
import { TopicService } from './topics/service.js';
import { UpgradeGate } from './transport/attach.js';
import { createHttpHandler, listen, webSocketUrl } from './transport/http.js';
import { Heartbeat } from './transport/socket.js';
import { createSocketServer } from './transport/upgrade.js';
import type { AttachedSessionServer, SessionServer, SessionServerOptions, SessionServerStats } from './types.js';

/**
 * Starts the reference server: a WebSocket endpoint (any path, or `path`) that authenticates each
 * socket with a token in its first frame, keeps sessions resumable across reconnects, serves topics
 * (subscribe with a resumable cursor, publish exactly once by clientId, shared fan-out), and closes
 * with a 4xxx code for every refusal (see PROTOCOL.md). Its own listener also answers `GET /health`
 * (readiness and counts) and `GET /metrics` (Prometheus).
 *
 * With `server` it attaches to the app's HTTP or HTTPS server instead (only upgrades on `path`);
 * with `noServer` it listens to nothing and the app hands it upgrades (`handleUpgrade`). Then the
 * app mounts `httpHandler` for the health and metrics endpoints.
 *
 * Import from `shared-session/server`.
 *
 * @param options - port and host (or `server` / `noServer`), token verification, topic permissions and store, limits; only `auth` is required
 * @returns the running server, once it listens (or is attached)
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
export async function createSessionServer(
  options: SessionServerOptions & { server: HttpServer | HttpsServer },
): Promise<AttachedSessionServer>;
export async function createSessionServer(
  options: SessionServerOptions & { noServer: true },
): Promise<AttachedSessionServer>;
export async function createSessionServer(options: SessionServerOptions): Promise<SessionServer>;
export async function createSessionServer(options: SessionServerOptions): Promise<AttachedSessionServer> {
  const resolved = resolveOptions(options);
  const { placement } = resolved;
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
  const counters = new OperationsCounters();

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
    refreshed: () => counters.refreshed(),
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
    ...counters.snapshot(),
  });
  const operations = new Operations(
    { stats, ping: opened.store.ping?.bind(opened.store), closing: () => closing !== undefined },
    options.operations,
  );

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
      ws.once('close', (code: number) => {
        counters.closed(code);
        const session = connection.session;
        if (session !== undefined) {
          logger.debug({ sessionId: session.sessionId, sub: session.userId, code }, 'session socket closed');
        }
      });
      if (closing !== undefined) connection.close(CloseCode.SERVER_SHUTDOWN, 'server shutting down');
      return connection;
    },
    closed: (ws) => sockets.delete(ws),
  });
  const gate = new UpgradeGate({
    path: resolved.path,
    allowOrigin: resolved.allowOrigin,
    closing: () => closing !== undefined,
    rejected: (reason) => counters.rejected(reason),
    upgrade: (req, socket, head) => socketServer.handleUpgrade(req, socket, head),
  });
  const http = placement.kind === 'listen' ? createServer(createHttpHandler(operations.handle)) : undefined;
  const upgradeSource = placement.kind === 'attach' ? placement.server : http;
  const onUpgrade = upgradeSource === undefined ? undefined : gate.listenerFor(upgradeSource);
  if (onUpgrade !== undefined) upgradeSource?.on('upgrade', onUpgrade);

  let boundPort = 0;
  let url = '';
  if (http !== undefined && placement.kind === 'listen') {
    try {
      boundPort = await listen(http, placement.port, placement.host);
    } catch (error) {
      heartbeat.stop();
      await closeTopics().catch(() => {});
      throw error;
    }
    http.on('error', (error) => logger.error({ err: error }, 'http server error'));
    url = webSocketUrl(placement.host, boundPort) + (resolved.path ?? '');
  }
  const where =
    placement.kind === 'listen'
      ? url
      : `${placement.kind === 'attach' ? "the app's server" : 'handleUpgrade'} at ${resolved.path ?? 'any path'}`;
  logger.info({ endpoint: where, store: opened.description }, 'server started');

  async function shutdown(): Promise<void> {
    heartbeat.stop();
    // The app's server stays open: only our upgrade listener leaves it.
    if (placement.kind === 'attach' && onUpgrade !== undefined) placement.server.off('upgrade', onUpgrade);
    const httpClosed = new Promise<void>((resolve) => (http === undefined ? resolve() : http.close(() => resolve())));
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
    http?.closeAllConnections();
    socketServer.close();
    await httpClosed;
    try {
      await closeTopics();
    } catch (error) {
      logger.error({ err: describeError(error) }, 'closing the topic store failed');
    }
    logger.info({ endpoint: where }, 'server closed');
  }

  const server: AttachedSessionServer = {
    stats,
    publish: (topic, data) => topics.publish(topic, data),
    shouldHandle: (request) => gate.matches(request),
    handleUpgrade: (request, socket, head) => gate.handle(request, socket, head),
    httpHandler: operations.handle,
    health: () => operations.health(),
    metrics: () => operations.metrics(),
    terminateSockets(userId) {
      let count = 0;
      for (const [ws, connection] of sockets) {
        if (userId !== undefined && connection.session?.userId !== userId) continue;
        ws.terminate();
        count++;
      }
      return count;
    },
    expireSessions(userId) {
      let count = 0;
      for (const connection of sockets.values()) {
        const session = connection.session;
        if (session === undefined || (userId !== undefined && session.userId !== userId)) continue;
        closeExpired(connection);
        count++;
      }
      return count;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
  return placement.kind === 'listen' ? Object.assign(server, { url, port: boundPort }) : server;
}
