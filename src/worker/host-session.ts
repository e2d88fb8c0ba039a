import * as Comlink from 'comlink';
import type { HostKind } from '../protocol/host-api.js';
import { hostAliveLockName } from '../protocol/host-discovery.js';
import { LIBRARY_BUILD_ID } from '../protocol/version.js';
import { registerErrorTransfer } from '../shared/error-transfer.js';
import { holdLock } from '../shared/web-locks.js';
import { announceHost } from './host-announcer.js';
import { openHostDatabase } from './host-database.js';
import { serveOverBroadcast } from './leader-host.js';
import { createOutboxStore } from './outbox-store.js';
import { SessionHost } from './session-host.js';
import { createSessionStore } from './session-store.js';
import { acquireSocketOwnership, stealSocketOwnership } from './socket-owner-lock.js';
import { createTopicCacheStore } from './topic-cache-store.js';

/** Build id reported when the app passes none and the script URL is unknown. */
export const DEFAULT_BUILD_ID = LIBRARY_BUILD_ID;

/** Options of {@link hostSession}. */
export interface HostSessionOptions {
  /**
   * Identifies this build of the host; tabs of an older build are told when a newer one starts.
   * Default: the package version plus the worker script's path, which changes with every deploy
   * when the bundler hashes file names.
   */
  buildId?: string;
  /** Also keep the raw token in IndexedDB so that a host restart can reconnect without a tab. */
  persistToken?: boolean;
  /** Grace after the last tab left before the socket closes, ms. */
  lastTabGraceMs?: number;
  /** Name of the IndexedDB database. */
  databaseName?: string;
  /**
   * Take the socket over from the current owner instead of waiting for it (Web Locks `steal`): for
   * a leader host started because the previous leader tab stopped answering (frozen). The old host
   * is fenced: it stops its socket and refreshes when it wakes. Default: from the worker's name
   * (the page names the worker `…:take-over` when it took the leadership over).
   */
  takeOver?: boolean;
}

/** Suffix of a leader worker's name when its tab took the leadership over from a frozen leader. */
export const TAKE_OVER_SUFFIX = ':take-over';

/**
 * The scope a host serves: a SharedWorker's global scope (it hands out a port per tab), or a
 * dedicated worker's (the leader-tab host, serving every tab over BroadcastChannel).
 */
export interface HostScope {
  addEventListener(type: 'connect', listener: (event: MessageEvent) => void): void;
}

/**
 * Runs the session host in `scope`. In a SharedWorker every tab that connects gets the host API
 * over comlink and all of them share one WebSocket; in a dedicated worker (where the page fell back
 * to a leader tab because SharedWorker is missing or failed) it runs the leader host, so one custom
 * worker script serves both host kinds. Import from `shared-session/worker`; the package's own
 * worker bundle calls it, apps that build their own worker call it.
 *
 * @param scope - the worker's global scope (`self`)
 * @param options - see {@link HostSessionOptions}
 * @returns the host, for the app's own use inside the worker
 * @example
 * ```ts
 * // my-worker.ts, passed to new SessionClient({ workerUrl: new URL('./my-worker.ts', import.meta.url), … })
 * import { hostSession } from 'shared-session/worker';
 * hostSession(self, { buildId: import.meta.env.VITE_BUILD_ID });
 * ```
 */
export function hostSession(scope: HostScope | object, options: HostSessionOptions = {}): SessionHost {
  if (!isSharedWorkerScope(scope)) {
    const name = (scope as { name?: unknown }).name;
    const takeOver = options.takeOver ?? (typeof name === 'string' && name.endsWith(TAKE_OVER_SUFFIX));
    return hostLeaderSession({ ...options, takeOver });
  }
  const host = createSessionHost('shared-worker', options);
  scope.addEventListener('connect', (event: MessageEvent) => {
    for (const port of event.ports) Comlink.expose(host, port);
  });
  const hostId = crypto.randomUUID();
  holdAliveLock(host, hostId);
  announceHost(host, { hostId, kind: 'shared-worker', buildId: host.buildId });
  return host;
}

/**
 * Holds the host's alive lock for the worker's life and names it in `attach`'s hello: without it
 * nothing tells the tabs of the worker's end (a crash, a kill) but their health pings, ~10 s later.
 */
function holdAliveLock(host: SessionHost, hostId: string): void {
  const aliveLock = hostAliveLockName(hostId);
  host.holdsAliveLock(
    aliveLock,
    holdLock(aliveLock).then((release) => release !== undefined),
  );
}

/** A SharedWorker's global scope receives `connect` events; a dedicated worker's does not. */
function isSharedWorkerScope(scope: HostScope | object): scope is HostScope {
  return 'onconnect' in scope;
}

/**
 * Runs the session host for the leader tab, in that tab's dedicated worker, serving every tab of
 * the origin over BroadcastChannel (used where SharedWorker is missing or fails to start).
 * Import from `shared-session/worker`.
 *
 * @param options - see {@link HostSessionOptions}
 * @example
 * ```ts
 * // my-leader-worker.ts, loaded with new Worker(new URL('./my-leader-worker.ts', import.meta.url), { type: 'module' })
 * import { hostLeaderSession } from 'shared-session/worker';
 * hostLeaderSession();
 * ```
 */
export function hostLeaderSession(options: HostSessionOptions = {}): SessionHost {
  const host = createSessionHost('leader', options);
  const hostId = crypto.randomUUID();
  holdAliveLock(host, hostId);
  const hosts = announceHost(host, { hostId, kind: 'leader', buildId: host.buildId });
  if (hosts) serveOverBroadcast(host, hostId, hosts);
  return host;
}

/**
 * Creates a host without binding it to a scope (the leader host and tests use this).
 *
 * @param kind - where the host runs
 * @param options - see {@link HostSessionOptions}
 */
export function createSessionHost(kind: HostKind, options: HostSessionOptions = {}): SessionHost {
  registerErrorTransfer();
  const database = openHostDatabase(options.databaseName);
  return new SessionHost({
    kind,
    buildId: options.buildId ?? defaultBuildId(),
    stores: {
      session: database.then(createSessionStore),
      topics: database.then(createTopicCacheStore),
      outbox: database.then(createOutboxStore),
    },
    persistToken: options.persistToken,
    lastTabGraceMs: options.lastTabGraceMs,
    acquireOwnership: options.takeOver ? stealSocketOwnership : acquireSocketOwnership,
  });
}

function defaultBuildId(): string {
  const location = (globalThis as { location?: { pathname: string; search: string } }).location;
  return location ? `${LIBRARY_BUILD_ID} ${location.pathname}${location.search}` : DEFAULT_BUILD_ID;
}
