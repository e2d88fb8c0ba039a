// Types only at load: workbox-window is CommonJS for Node, where a named import throws on load (SSR).
import type { Workbox } from 'workbox-window';

/** What {@link registerServiceWorker} needs of a `SessionClient` to reload every tab through the host. */
export interface ReloadsAllTabs {
  reloadAllTabs(): Promise<void>;
}

/** Options of {@link registerServiceWorker}. */
export interface RegisterServiceWorkerOptions {
  /** Passed to `navigator.serviceWorker.register` (e.g. `{ scope: '/' }`). */
  registerOptions?: RegistrationOptions;
  /**
   * The app's `SessionClient`: `applyUpdate()` then reloads every tab of the app through the
   * session host (tabs are told, none polls). Without it only this tab reloads.
   */
  client?: ReloadsAllTabs;
  /** Called when a new service worker is installed and waiting (a new build is available). */
  onUpdateAvailable?: () => void;
}

/** The registered service worker and its update controls. */
export interface ServiceWorkerHandle {
  /** The underlying workbox-window instance. */
  readonly workbox: Workbox;
  /** Whether a new service worker is installed and waiting. */
  readonly updateAvailable: boolean;
  /**
   * Calls `callback` once a new service worker is waiting (at once if one already is).
   *
   * @returns a function that unsubscribes
   */
  onUpdateAvailable(callback: () => void): () => void;
  /**
   * Activates the waiting service worker (`SKIP_WAITING`) and, once it controls this page, reloads
   * every tab of the app into the new build. Resolves when the reload was requested.
   */
  applyUpdate(): Promise<void>;
}

/** The message a service worker must handle to activate on request: `self.skipWaiting()`. */
export const SKIP_WAITING_MESSAGE = { type: 'SKIP_WAITING' } as const;

/** workbox-window's `Workbox`, loaded on first use: bundlers resolve its ES module, Node its CommonJS one. */
async function loadWorkbox(): Promise<typeof Workbox> {
  const module = (await import('workbox-window')) as typeof import('workbox-window') & {
    default?: typeof import('workbox-window');
  };
  return module.Workbox ?? module.default!.Workbox;
}

/**
 * Registers the app's service worker with workbox-window and surfaces its update lifecycle:
 * `waiting` becomes `onUpdateAvailable`, and `applyUpdate()` activates the new worker and, on
 * `controlling`, reloads every tab of the app through the session host. The service worker must
 * call `self.skipWaiting()` on {@link SKIP_WAITING_MESSAGE} (workbox-precaching apps do).
 * Import from `shared-session/page`.
 *
 * @param url - the service worker script
 * @param options - see {@link RegisterServiceWorkerOptions}
 * @returns the handle, or `undefined` where service workers are unavailable (http, some webviews)
 * @example
 * ```ts
 * const sw = await registerServiceWorker('/sw.js', { client });
 * sw?.onUpdateAvailable(() => showBanner('A new version is ready', () => sw.applyUpdate()));
 * ```
 */
export async function registerServiceWorker(
  url: string | URL,
  options: RegisterServiceWorkerOptions = {},
): Promise<ServiceWorkerHandle | undefined> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return undefined;
  const workbox = new (await loadWorkbox())(String(url), options.registerOptions);
  const listeners = new Set<() => void>();
  if (options.onUpdateAvailable) listeners.add(options.onUpdateAvailable);
  let updateAvailable = false;
  let applying = false;

  workbox.addEventListener('waiting', () => {
    updateAvailable = true;
    for (const listener of [...listeners]) listener();
  });
  workbox.addEventListener('controlling', () => {
    // Only the tab that applied the update asks for the reload; the others hear it through the host.
    // (Not `event.isUpdate`: workbox-window sets it only if the page was controlled when it
    // registered, so a first visit that later updates would never reload.)
    if (!applying) return;
    void (options.client ? options.client.reloadAllTabs().catch(() => location.reload()) : location.reload());
  });
  await workbox.register();

  return {
    workbox,
    get updateAvailable() {
      return updateAvailable;
    },
    onUpdateAvailable(callback) {
      listeners.add(callback);
      if (updateAvailable) callback();
      return () => listeners.delete(callback);
    },
    async applyUpdate() {
      applying = true;
      if (!updateAvailable) {
        // Nothing waiting: reload into whatever is current (e.g. after a host-announced update).
        await (options.client ? options.client.reloadAllTabs() : Promise.resolve(location.reload()));
        return;
      }
      workbox.messageSkipWaiting();
    },
  };
}
