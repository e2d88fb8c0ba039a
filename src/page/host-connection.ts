import * as Comlink from 'comlink';
import { HostUnavailableError } from '../errors/index.js';
import type { HostApi, HostKind } from '../protocol/host-api.js';

/** A tab's link to its session host. */
export interface HostConnection {
  /** The host's API; a leader connection replaces it when another tab takes over. */
  readonly api: Comlink.Remote<HostApi>;
  readonly kind: HostKind;
  /** Rejects when the host fails to start (script error, blocked worker). */
  readonly failed: Promise<never>;
  /** Called when a new host replaced the one `api` pointed to (the tab must attach again). */
  onReplaced(callback: () => void): void;
  /** Closes this tab's link; the host itself lives on for the other tabs. */
  close(): void;
  /**
   * Leader hosts: the host stopped answering — restart it (this tab leads) or take the lead over
   * from a frozen leader tab. Absent for a SharedWorker (the page falls back to a leader instead).
   */
  recover?(): void;
  /**
   * Leader hosts: the host's worker ended (its alive lock was released) — restart it when this
   * tab's own worker ran it, else wait for the next leader's host to announce itself. Absent for a
   * SharedWorker (its end is handled like an unresponsive host).
   */
  hostEnded?(): void;
}

const noop = () => undefined;

/**
 * A host that cannot run here: `failed` and every API call reject with `error` (never a
 * `TypeError` from a missing API object).
 *
 * @param kind - the host that was asked for
 * @param error - why it cannot run
 */
export function unavailableHost(kind: HostKind, error: HostUnavailableError): HostConnection {
  const failed = Promise.reject(error);
  failed.catch(noop);
  const api = new Proxy({} as Comlink.Remote<HostApi>, {
    // Not a thenable (`await host.api` must not call `then`); every method rejects.
    get: (_, property) => (property === 'then' ? undefined : () => Promise.reject(error)),
  });
  return { api, kind, failed, onReplaced: noop, close: noop };
}

/** Where a worker start failure sends the reader. */
const BUNDLERS_README = 'see "Bundlers" in the shared-session README';

/**
 * The error of a session worker that failed to start: it names the URL tried and says what to
 * pass as `workerUrl`. Without `workerUrl` that is the package's own bundle,
 * `new URL('../worker.js', import.meta.url)` beside the package's page code: Vite, webpack and
 * Next emit it and rewrite the URL, esbuild and plain Rollup leave it pointing at a file they did
 * not copy. (The URL is not resolved here: a second `new URL(…, import.meta.url)` would make
 * bundlers emit a second asset or warn, and webpack would inline the build machine's file path.)
 *
 * @param worker - which worker (`'the shared-session SharedWorker'`)
 * @param workerUrl - the app's `workerUrl`, when it passed one
 * @param cause - what the browser reported (an `error` event, a constructor's exception)
 * @example
 * ```ts
 * worker.addEventListener('error', (event) => reject(workerStartError('the shared-session SharedWorker', undefined, event)));
 * ```
 */
export function workerStartError(
  worker: string,
  workerUrl: string | URL | undefined,
  cause: unknown,
): HostUnavailableError {
  const advice =
    workerUrl === undefined
      ? "if the app's bundler did not emit it (esbuild, plain Rollup), serve a copy of shared-session/worker.js " +
        'and pass its URL as `workerUrl`'
      : "`workerUrl` must serve a copy of shared-session/worker.js as JavaScript from the page's origin";
  const tried =
    workerUrl === undefined
      ? "the package's worker bundle, new URL('../worker.js', import.meta.url) beside shared-session's page code"
      : String(workerUrl);
  return new HostUnavailableError(
    `${worker} failed to start from ${tried} (a 404, a syntax error or a wrong MIME type): ${advice} (${BUNDLERS_README})`,
    { cause },
  );
}

/**
 * Starts (or joins) the package's SharedWorker host and wraps its port with comlink.
 *
 * The options object stays an inline literal: bundlers (Vite) only rewrite
 * `new SharedWorker(new URL(…, import.meta.url), {…})` into a hashed asset when it is one, and
 * every tab must pass identical options or Chromium refuses the connection. `extendedLifetime`
 * (Chromium 148+) keeps the worker, and so the socket, across a lone tab's reload. A worker that
 * cannot be created (no `import.meta.url` in an iife bundle, a cross-origin `workerUrl`) or fails
 * to load gives a host whose `failed` rejects with {@link workerStartError}.
 *
 * @param workerUrl - the app's own worker script, instead of the bundled one
 */
export function connectSharedWorkerHost(workerUrl: string | URL | undefined): HostConnection {
  const what = 'the shared-session SharedWorker';
  let worker: SharedWorker;
  try {
    worker =
      workerUrl === undefined
        ? new SharedWorker(new URL('../worker.js', import.meta.url), {
            type: 'module',
            name: 'shared-session',
            extendedLifetime: true,
          } as WorkerOptions)
        : new SharedWorker(workerUrl, {
            type: 'module',
            name: 'shared-session',
            extendedLifetime: true,
          } as WorkerOptions);
  } catch (error) {
    return unavailableHost('shared-worker', workerStartError(what, workerUrl, error));
  }
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => reject(workerStartError(what, workerUrl, event)));
  });
  failed.catch(() => undefined);
  worker.port.start();
  const api = cacheRemoteMethods(Comlink.wrap<HostApi>(worker.port));
  return {
    api,
    kind: 'shared-worker',
    failed,
    onReplaced: noop, // a SharedWorker outlives its tabs: never replaced under a tab
    close: () => {
      api[Comlink.releaseProxy]();
      worker.port.close();
    },
  };
}

/**
 * Wraps a comlink remote so that each method's proxy is created once. comlink builds a new Proxy
 * (and registers it for finalisation) on every property access; on the RPC hot path that is a
 * measurable share of a round trip (bench/: page → host → page).
 *
 * @param remote - a `Comlink.wrap` result
 */
export function cacheRemoteMethods<T extends object>(remote: Comlink.Remote<T>): Comlink.Remote<T> {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(remote, {
    get(target, property) {
      if (property === Comlink.releaseProxy || property === 'then') return Reflect.get(target, property);
      if (!methods.has(property)) methods.set(property, Reflect.get(target, property));
      return methods.get(property);
    },
  });
}
