import type { Remote } from 'comlink';
import { SessionError } from '../errors/index.js';
import type { HostApi, RefreshRegistration, StartSessionRequest } from '../protocol/host-api.js';

/** Returns a new token, or `undefined` for "no new token" (the session then ends at `exp`). */
export type RefreshHandler = () => Promise<string | undefined | null>;

/** How the session's token is kept fresh (spec §3). */
export interface RefreshOptions {
  /** Called 1 s before the token's `exp` (or every `interval` ms); returns the new token. */
  refreshHandler: RefreshHandler;
  /** Refresh every `interval` ms instead of before `exp`. */
  interval?: number;
}

/**
 * What this tab asked of the session — the freshest token it knows, `autoConnect`, its refresh
 * handlers — so that a new leader host can be brought the same session (replay). Also runs the
 * tab's refresh handlers when the host asks. Internal to `SessionClient`.
 *
 * @example
 * ```ts
 * const intent = new SessionIntent(serverUrl, schemaVersion);
 * const refresh = intent.register(refreshOptions);
 * await api.startSession(tabId, intent.startRequest(token, true, refresh));
 * ```
 */
export class SessionIntent {
  readonly #serverUrl: string;
  readonly #schemaVersion: number | undefined;
  readonly #handlers = new Map<string, RefreshHandler>();
  /** The freshest token this tab knows (its own, or pushed by a leader host). */
  #token: string | undefined;
  #autoConnect = true;
  #refresh: RefreshRegistration | undefined;

  /**
   * @param serverUrl - normalised ws(s) URL of the server
   * @param schemaVersion - the app's schema version, if it declared one
   */
  constructor(serverUrl: string, schemaVersion: number | undefined) {
    this.#serverUrl = serverUrl;
    this.#schemaVersion = schemaVersion;
  }

  /** Remembers the freshest token this tab knows. */
  set token(token: string) {
    this.#token = token;
  }

  /**
   * Keeps `options.refreshHandler` under a new refresh id (validated options).
   *
   * @returns the registration to send with `startSession`, or `undefined` without options
   */
  register(options: RefreshOptions | undefined): RefreshRegistration | undefined {
    if (!options) return undefined;
    const registration: RefreshRegistration = { refreshId: crypto.randomUUID() };
    if (options.interval !== undefined) registration.interval = options.interval;
    this.#handlers.set(registration.refreshId, options.refreshHandler);
    return registration;
  }

  /**
   * Forgets a refresh handler.
   *
   * @returns whether it was still registered
   */
  unregister(refreshId: string): boolean {
    return this.#handlers.delete(refreshId);
  }

  /** Forgets every refresh handler: the host asks another tab from now on. */
  clear(): void {
    this.#handlers.clear();
  }

  /**
   * The `startSession` request for `token`.
   *
   * @param token - the JWT
   * @param autoConnect - open the socket at once
   * @param refresh - this call's refresh registration
   */
  startRequest(token: string, autoConnect: boolean, refresh: RefreshRegistration | undefined): StartSessionRequest {
    const request: StartSessionRequest = { token, autoConnect, serverUrl: this.#serverUrl };
    if (this.#schemaVersion !== undefined) request.schemaVersion = this.#schemaVersion;
    if (refresh) request.refresh = refresh;
    return request;
  }

  /**
   * A `startSession` succeeded: this is what to replay into a new host.
   *
   * @param token - the token it started with
   * @param autoConnect - as passed
   * @param refresh - its refresh registration, if it passed a handler (else the earlier one stays)
   */
  started(token: string, autoConnect: boolean, refresh: RefreshRegistration | undefined): void {
    this.#token = token;
    this.#autoConnect = autoConnect;
    if (refresh) this.#refresh = refresh;
  }

  /**
   * Brings the session to a new leader host that has not resumed it, with the freshest token and
   * this tab's refresh handler. Its errors reach `onSessionError` like any other.
   *
   * @param api - the new host
   * @param tabId - this tab's id
   */
  async replay(api: Remote<HostApi>, tabId: string): Promise<void> {
    if (this.#token === undefined) return;
    const refresh = this.#refresh && this.#handlers.has(this.#refresh.refreshId) ? this.#refresh : undefined;
    await api.startSession(tabId, this.startRequest(this.#token, this.#autoConnect, refresh)).catch(() => undefined);
  }

  /**
   * Runs the refresh handler `refreshId` for the host.
   *
   * @returns the new token, or `undefined` for "no new token"
   * @throws what the handler throws; `INVALID_ARGUMENT` for a stopped handler
   */
  async runRefreshHandler(refreshId: string): Promise<string | undefined> {
    const handler = this.#handlers.get(refreshId);
    if (!handler) throw new SessionError('INVALID_ARGUMENT', 'this refresh handler was stopped');
    const token = await handler();
    if (token === undefined || token === null) return undefined;
    if (typeof token !== 'string') throw new TypeError('refreshHandler must return a string token or undefined');
    return token;
  }
}
