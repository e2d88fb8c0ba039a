import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * Where the server takes its WebSocket upgrades from: its own HTTP server (`port`/`host`), the
 * app's HTTP or HTTPS server (`server`, only upgrades on `path`), or the app's framework
 * (`noServer`, which hands upgrades to `handleUpgrade`) — and which upgrades it refuses (another
 * path: 404; an origin not in `allowedOrigins`: 403; shutting down: 503).
 *
 * @module
 */

/**
 * Options of `createSessionServer` that place it in an app that already runs an HTTP server.
 * `server` and `noServer` exclude `port` and `host`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const app = express();
 * const http = app.listen(3000);
 * const sessions = await createSessionServer({ server: http, path: '/session', auth, allowedOrigins: ['https://app.example.com'] });
 * // the page: new SessionClient({ serverUrl: 'wss://app.example.com/session' })
 * ```
 */
export interface AttachOptions {
  /**
   * The app's `http.Server` or `https.Server`: the session server listens to its `upgrade` events
   * and takes only those on `path`. An upgrade on another path is left to the server's other
   * `upgrade` listeners; when it has none, it is answered 404 and its socket destroyed. `close()`
   * closes the session sockets and stops listening to `upgrade`, but leaves the app's server open.
   */
  server?: HttpServer | HttpsServer;
  /**
   * Listen to nothing: the app's framework hands upgrades to `handleUpgrade(request, socket, head)`
   * (and may ask `shouldHandle(request)` first).
   */
  noServer?: boolean;
  /**
   * Path of the WebSocket endpoint (`'/session'`), matched exactly, without the query. Required
   * with `server`; without it (own port or `noServer`) every path is accepted.
   */
  path?: string;
  /**
   * Origins (`'https://app.example.com'`, exact) or patterns (`/^https:\/\/[a-z]+\.example\.com$/`)
   * allowed to open a session socket; an upgrade from another origin is answered 403 (counted in
   * `upgradesRejected.origin`). An upgrade without an `Origin` header (not a browser) is allowed:
   * the token in the first frame is what authenticates. Default: every origin.
   */
  allowedOrigins?: readonly (string | RegExp)[];
}

/** Where the server gets its upgrades from. */
export type Placement =
  | { kind: 'listen'; port: number; host: string }
  | { kind: 'attach'; server: HttpServer | HttpsServer }
  | { kind: 'no-server' };

/**
 * Why an upgrade was refused, the label of `upgradesRejected`: `path` (404), `origin` (403),
 * `shutdown` (503, the server is closing). Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const refusedByOrigin = server.stats().upgradesRejected.origin ?? 0;
 * ```
 */
export type UpgradeRejection = 'path' | 'origin' | 'shutdown';

/** What an {@link UpgradeGate} needs. */
export interface UpgradeGateOptions {
  /** The endpoint's path; `undefined` accepts every path. */
  path: string | undefined;
  /** Compiled `allowedOrigins`; `undefined` allows every origin. */
  allowOrigin: ((origin: string) => boolean) | undefined;
  /** Whether the server is shutting down. */
  closing(): boolean;
  /** Counts a refusal. */
  rejected(reason: UpgradeRejection): void;
  /** Completes an accepted upgrade. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Decides every upgrade: the path, the origin, the server's state. */
export class UpgradeGate {
  readonly #options: UpgradeGateOptions;

  /** @param options - path, origins, and what to do with an accepted upgrade */
  constructor(options: UpgradeGateOptions) {
    this.#options = options;
  }

  /**
   * Whether `request` is for this endpoint (its path matches; origin and state are checked by
   * {@link UpgradeGate.handle}).
   *
   * @param request - the upgrade request
   */
  matches(request: IncomingMessage): boolean {
    const { path } = this.#options;
    return path === undefined || pathOf(request) === path;
  }

  /**
   * Takes the upgrade: completes it, or answers 404 (another path), 403 (origin not allowed) or
   * 503 (shutting down) and destroys the socket.
   *
   * @param request - the upgrade request
   * @param socket - its socket
   * @param head - the first bytes after the request head
   */
  handle(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const options = this.#options;
    if (!this.matches(request)) return this.#refuse(socket, 404, 'path', 'no WebSocket endpoint on this path');
    const origin = request.headers.origin;
    if (origin !== undefined && options.allowOrigin !== undefined && !options.allowOrigin(origin)) {
      return this.#refuse(socket, 403, 'origin', 'origin not allowed');
    }
    if (options.closing()) return this.#refuse(socket, 503, 'shutdown', 'server shutting down');
    options.upgrade(request, socket, head);
  }

  /**
   * The `upgrade` listener for the app's server: handles its path, leaves other paths to the
   * server's other `upgrade` listeners, and answers 404 when there are none.
   *
   * @param server - the app's server
   */
  listenerFor(server: HttpServer | HttpsServer): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
    return (request, socket, head) => {
      if (!this.matches(request) && server.listenerCount('upgrade') > 1) return;
      this.handle(request, socket, head);
    };
  }

  #refuse(socket: Duplex, status: number, reason: UpgradeRejection, message: string): void {
    this.#options.rejected(reason);
    refuseUpgrade(socket, status, message);
  }
}

/**
 * Answers an upgrade request with a plain HTTP error and destroys the socket once it is written.
 *
 * @param socket - the upgrade's socket
 * @param status - HTTP status
 * @param message - body text
 */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  socket.on('error', () => {}); // the client may be gone already; nothing to report
  if (!socket.writable) return void socket.destroy();
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Checks the options of {@link AttachOptions} against `port` and `host` and says where upgrades
 * come from.
 *
 * @param options - the attach options and the listen options given
 * @param listen - `port` and `host` with their defaults applied
 * @throws TypeError for conflicting or invalid options
 */
export function resolvePlacement(
  options: AttachOptions & { port?: number | undefined; host?: string | undefined },
  listen: () => { port: number; host: string },
): { placement: Placement; path: string | undefined; allowOrigin: ((origin: string) => boolean) | undefined } {
  const { server, noServer, path } = options;
  if (server !== undefined && noServer !== undefined && noServer !== false) {
    throw new TypeError('give "server" or "noServer", not both');
  }
  if ((server !== undefined || noServer === true) && (options.port !== undefined || options.host !== undefined)) {
    throw new TypeError('"port" and "host" are for the server\'s own listener: not with "server" or "noServer"');
  }
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path))) {
    throw new TypeError('"path" must start with "/" and have no query, fragment or spaces');
  }
  let placement: Placement;
  if (server !== undefined) {
    if (typeof server?.on !== 'function' || typeof server.listenerCount !== 'function') {
      throw new TypeError('"server" must be an http.Server or https.Server');
    }
    if (path === undefined) throw new TypeError('"path" is required with "server" (for example "/session")');
    placement = { kind: 'attach', server };
  } else if (noServer === true) {
    placement = { kind: 'no-server' };
  } else {
    placement = { kind: 'listen', ...listen() };
  }
  return { placement, path, allowOrigin: compileOrigins(options.allowedOrigins) };
}

function compileOrigins(list: AttachOptions['allowedOrigins']): ((origin: string) => boolean) | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new TypeError('"allowedOrigins" must be an array of origins and RegExps');
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of list) {
    if (entry instanceof RegExp) patterns.push(entry);
    else if (typeof entry === 'string' && originOf(entry) === entry.toLowerCase()) exact.add(entry.toLowerCase());
    else
      throw new TypeError(
        `"allowedOrigins" entry ${JSON.stringify(String(entry))} is not an origin like "https://app.example.com"`,
      );
  }
  return (origin) => {
    if (exact.has(origin.toLowerCase())) return true;
    // lastIndex reset: a /g or /y pattern keeps state between test() calls.
    return patterns.some((pattern) => ((pattern.lastIndex = 0), pattern.test(origin)));
  };
}

function originOf(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}
