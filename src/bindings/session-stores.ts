import type { ConnectionStatus, SessionErrorType, SessionInfo } from '../page/index.js';
import type { BindableClient } from './client.js';
import { Emitter } from './emitter.js';
import { ExternalStore, type ReadableStore } from './store.js';

/** Status of server rendering and of a store that has never been read. */
const SERVER_STATUS: ConnectionStatus = 'UNINITIALIZED';

class ConnectionStatusStore extends ExternalStore<ConnectionStatus> {
  readonly #client: BindableClient;
  #off: (() => void) | undefined;

  constructor(client: BindableClient) {
    super(SERVER_STATUS, SERVER_STATUS); // read from the client on the first getSnapshot
    this.#client = client;
  }

  protected connect(): void {
    this.#off = this.#client.onConnectionStatusChange((status) => this.set(status), true);
  }

  protected disconnect(): void {
    this.#off?.();
    this.#off = undefined;
  }

  protected override syncIdle(): void {
    this.set(this.#client.connectionStatus);
  }
}

/** Same session, field by field: a repeated `session` event must not make a new snapshot. */
function sameSession(a: SessionInfo | undefined, b: SessionInfo | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.id === b.id &&
    a.userId === b.userId &&
    a.expiresAt === b.expiresAt &&
    a.tabs === b.tabs &&
    a.roles.length === b.roles.length &&
    a.roles.every((role, i) => role === b.roles[i])
  );
}

class SessionStore extends ExternalStore<SessionInfo | undefined> {
  readonly #client: BindableClient;
  #off: (() => void) | undefined;

  constructor(client: BindableClient) {
    super(undefined, undefined);
    this.#client = client;
  }

  protected connect(): void {
    this.#off = this.#client.onSessionChange((session) => this.#update(session), true);
  }

  protected disconnect(): void {
    this.#off?.();
    this.#off = undefined;
  }

  /** The client has no synchronous session getter: a subscription with `runImmediately` reads it. */
  protected override syncIdle(): void {
    this.#client.onSessionChange((session) => this.#update(session), true)();
  }

  #update(session: SessionInfo | undefined): void {
    if (!sameSession(session, this.snapshot)) this.set(session);
  }
}

/** Session errors: events, not state (the same error twice is two events). */
export interface SessionErrorEvents {
  /**
   * Calls `listener` with every session error of the client, whichever tab caused it.
   *
   * @returns a function that unsubscribes
   */
  subscribe(listener: (type: SessionErrorType) => void): () => void;
}

class ClientSessionErrorEvents implements SessionErrorEvents {
  readonly #client: BindableClient;
  readonly #listeners = new Emitter<SessionErrorType>();
  #off: (() => void) | undefined;

  constructor(client: BindableClient) {
    this.#client = client;
  }

  subscribe(listener: (type: SessionErrorType) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('"listener" must be a function');
    if (this.#listeners.size === 0) this.#off = this.#client.onSessionError((type) => this.#listeners.emit(type));
    const remove = this.#listeners.add(listener);
    return () => {
      if (!remove() || this.#listeners.size > 0) return;
      this.#off?.();
      this.#off = undefined;
    };
  }
}

/** One store of each kind per client, shared by every component that reads it. */
function perClient<S>(create: (client: BindableClient) => S): (client: BindableClient) => S {
  const stores = new WeakMap<BindableClient, S>();
  return (client) => {
    let store = stores.get(client);
    if (store === undefined) stores.set(client, (store = create(client)));
    return store;
  };
}

/**
 * The client's connection status as a store (one per client). Background token refreshes never
 * change it, so they never notify.
 *
 * @example
 * ```ts
 * const status = connectionStatusStore(client);
 * status.subscribe(() => console.log(status.getSnapshot()));
 * ```
 */
export const connectionStatusStore: (client: BindableClient) => ReadableStore<ConnectionStatus> = perClient(
  (client) => new ConnectionStatusStore(client),
);

/**
 * The running session (`undefined` when none) as a store (one per client). The snapshot changes
 * when the session starts, ends, or its user, roles, expiry or tab count change.
 *
 * @example
 * ```ts
 * const session = sessionStore(client);
 * session.subscribe(() => console.log(session.getSnapshot()?.userId));
 * ```
 */
export const sessionStore: (client: BindableClient) => ReadableStore<SessionInfo | undefined> = perClient(
  (client) => new SessionStore(client),
);

/**
 * The client's session errors as events (one source per client, one client listener however many
 * listen).
 *
 * @example
 * ```ts
 * const off = sessionErrorEvents(client).subscribe((type) => type === 'TOKEN_EXPIRED' && signIn());
 * ```
 */
export const sessionErrorEvents: (client: BindableClient) => SessionErrorEvents = perClient(
  (client) => new ClientSessionErrorEvents(client),
);
