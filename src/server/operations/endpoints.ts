import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationsCounts } from './counters.js';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics, type MetricFamily } from './exposition.js';

/**
 * The operations endpoints: `GET /health` (liveness and readiness, with counts only — never a user
 * id) and `GET /metrics` (Prometheus text format). The server's own listener serves them; a server
 * attached to the app's HTTP server serves nothing itself, and the app mounts `httpHandler` (or
 * calls `health()` / `metrics()` from its own routes).
 *
 * @module
 */

/**
 * Default path of the health endpoint. `GET /health` (and `/health/ready`) answers 200 when the
 * server is ready (its store answers), 503 otherwise; `GET /health/live` answers 200 while the
 * process serves. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { ready } = await (await fetch(`http://127.0.0.1:${server.port}${HEALTH_PATH}`)).json();
 * ```
 */
export const HEALTH_PATH = '/health';

/**
 * Default path of the Prometheus endpoint. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const text = await (await fetch(`http://127.0.0.1:${server.port}${METRICS_PATH}`)).text();
 * ```
 */
export const METRICS_PATH = '/metrics';

/**
 * Longest wait for the store's `ping()` in a health check (2 s); a store slower than this is
 * reported unreachable. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * console.log(`health checks wait ${HEALTH_CHECK_TIMEOUT_MS} ms for the store at most`);
 * ```
 */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * Paths of the operations endpoints, or `false` to serve one not at all.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const operations: OperationsOptions = { healthPath: '/internal/health', metricsPath: false };
 * ```
 */
export interface OperationsOptions {
  /** Health endpoint (plus `<path>/live` and `<path>/ready`). Default {@link HEALTH_PATH}. */
  healthPath?: string | false;
  /** Prometheus endpoint. Default {@link METRICS_PATH}. */
  metricsPath?: string | false;
}

/**
 * The server's counts: what `stats()`, `GET /health` and `GET /metrics` report, without user ids.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { sessions, sockets }: ServerCounts = server.stats();
 * ```
 */
export interface ServerCounts extends OperationsCounts {
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
}

/**
 * What `GET /health` answers and `health()` returns: liveness, readiness and counts only.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const report: HealthReport = await server.health();
 * if (!report.ready) console.warn(`store ${report.store}`);
 * ```
 */
export interface HealthReport extends ServerCounts {
  /** `ok` when ready; `unavailable` otherwise (HTTP 503). */
  status: 'ok' | 'unavailable';
  /** The process answers. */
  live: true;
  /** The store answers and the server is not shutting down. */
  ready: boolean;
  /** The store's probe: `ok`, `unreachable` (failed or slower than {@link HEALTH_CHECK_TIMEOUT_MS}), or `unknown` for a store without `ping()`. */
  store: 'ok' | 'unreachable' | 'unknown';
  /** Whether `close()` was called. */
  shuttingDown: boolean;
}

/** What the endpoints read from the server. */
export interface OperationsSource {
  stats(): ServerCounts;
  /** The store's probe, when it has one. */
  ping: (() => Promise<void>) | undefined;
  closing(): boolean;
}

/**
 * Connect-style handler of the operations endpoints: answers them, passes every other request to
 * `next` (or answers 404 without one). Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * expressApp.use(sessions.httpHandler); // GET /health and GET /metrics on the app's port
 * ```
 */
export type OperationsHandler = (request: IncomingMessage, response: ServerResponse, next?: () => void) => void;

/** The health report, the metrics and the handler that serves both. */
export class Operations {
  readonly #source: OperationsSource;
  readonly #healthPath: string | false;
  readonly #metricsPath: string | false;

  /**
   * @param source - the server's counts, store probe and state
   * @param options - endpoint paths
   * @throws TypeError for a path that does not start with "/"
   */
  constructor(source: OperationsSource, options: OperationsOptions = {}) {
    this.#source = source;
    this.#healthPath = endpointPath(options.healthPath, HEALTH_PATH, 'healthPath');
    this.#metricsPath = endpointPath(options.metricsPath, METRICS_PATH, 'metricsPath');
  }

  /** Liveness, readiness (the store pinged, at most {@link HEALTH_CHECK_TIMEOUT_MS}) and counts. */
  async health(): Promise<HealthReport> {
    const store = await this.#probe();
    const shuttingDown = this.#source.closing();
    const ready = store !== 'unreachable' && !shuttingDown;
    return {
      status: ready ? 'ok' : 'unavailable',
      live: true,
      ready,
      store,
      shuttingDown,
      ...counts(this.#source.stats()),
    };
  }

  /** The metrics in Prometheus text format (no user ids). */
  async metrics(): Promise<string> {
    const { ready } = await this.health();
    return renderMetrics(metricFamilies(this.#source.stats(), ready));
  }

  /** Serves the endpoints (see {@link OperationsHandler}). */
  readonly handle: OperationsHandler = (request, response, next) => {
    const path = (request.url ?? '/').split(/[?#]/, 1)[0];
    const isRead = request.method === 'GET' || request.method === 'HEAD';
    const health = this.#healthPath;
    if (isRead && health !== false && (path === health || path === `${health}/ready`)) {
      void this.health().then(
        (report) => reply(request, response, report.ready ? 200 : 503, 'application/json', JSON.stringify(report)),
        () => reply(request, response, 500, 'text/plain', 'health check failed\n'),
      );
    } else if (isRead && health !== false && path === `${health}/live`) {
      reply(request, response, 200, 'application/json', JSON.stringify({ live: true }));
    } else if (isRead && this.#metricsPath !== false && path === this.#metricsPath) {
      void this.metrics().then(
        (text) => reply(request, response, 200, PROMETHEUS_CONTENT_TYPE, text),
        () => reply(request, response, 500, 'text/plain', 'metrics failed\n'),
      );
    } else if (next !== undefined) {
      next();
    } else {
      reply(request, response, 404, 'text/plain', 'not found\n');
    }
  };

  async #probe(): Promise<HealthReport['store']> {
    const { ping } = this.#source;
    if (ping === undefined) return 'unknown';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'unreachable'>(
      (resolve) => (timer = setTimeout(resolve, HEALTH_CHECK_TIMEOUT_MS, 'unreachable')),
    );
    try {
      return await Promise.race([ping().then(() => 'ok' as const), late]);
    } catch {
      return 'unreachable';
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The counts picked one by one, so that nothing else of `stats()` (user ids) can reach HTTP. */
function counts(stats: ServerCounts): ServerCounts {
  const { sessions, sockets, subscriptions, topics, changesSent, changesStored, socketsOpened } = stats;
  const { refreshes, closesByCode, upgradesRejected } = stats;
  return {
    sessions,
    sockets,
    subscriptions,
    topics,
    changesSent,
    changesStored,
    socketsOpened,
    refreshes,
    closesByCode,
    upgradesRejected,
  };
}

function metricFamilies(stats: ServerCounts, ready: boolean): MetricFamily[] {
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    samples: [{ value }],
  });
  const counter = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: 'counter',
    samples: [{ value }],
  });
  const labelled = (name: string, help: string, label: string, values: Record<string, number>): MetricFamily => ({
    name,
    help,
    type: 'counter',
    samples: Object.entries(values).map(([key, value]) => ({ labels: { [label]: key }, value })),
  });
  return [
    gauge(
      'shared_session_ready',
      'Whether the server is ready: its store answers and it is not shutting down (1 or 0).',
      ready ? 1 : 0,
    ),
    gauge('shared_session_sockets', 'Open WebSockets, authenticated or not.', stats.sockets),
    gauge('shared_session_sessions', 'Session ids with at least one open authenticated socket.', stats.sessions),
    gauge('shared_session_subscriptions', 'Topic subscriptions of all connections.', stats.subscriptions),
    gauge(
      'shared_session_topic_groups',
      'Shared fan-out groups (topic and read permission) with subscribers.',
      stats.topics,
    ),
    counter('shared_session_sockets_opened_total', 'WebSockets accepted.', stats.socketsOpened),
    counter(
      'shared_session_changes_stored_total',
      'Changes appended to topics, duplicates excluded.',
      stats.changesStored,
    ),
    counter(
      'shared_session_changes_sent_total',
      'Change frames sent to clients, catch-up and live.',
      stats.changesSent,
    ),
    counter('shared_session_token_refreshes_total', 'Token updates accepted on live sockets.', stats.refreshes),
    labelled('shared_session_socket_closes_total', 'Finished WebSockets by close code.', 'code', stats.closesByCode),
    labelled(
      'shared_session_upgrades_rejected_total',
      'WebSocket upgrades refused, by reason.',
      'reason',
      stats.upgradesRejected,
    ),
  ];
}

function endpointPath(value: string | false | undefined, fallback: string, name: string): string | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw new TypeError(`"${name}" must be false or a path starting with "/"`);
  }
  return value;
}

function reply(request: IncomingMessage, response: ServerResponse, status: number, type: string, body: string): void {
  // No Access-Control-Allow-Origin: the endpoints are for probes and scrapers, not for pages.
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : body);
}
