import { HostUnavailableError } from '../errors/index.js';
import { systemClock } from '../shared/clock.js';
import { holdLock, waitForRelease } from '../shared/web-locks.js';
import { connectSharedWorkerHost } from './host-connection.js';
import type { HostEnvironment, VisibilitySource } from './host-supervisor.js';
import { connectLeaderHost, leaderHostSupported } from './leader-connection.js';

/**
 * What a `SessionClient` uses of the browser: the system clock, the SharedWorker and leader-tab
 * hosts, Web Locks and `document`'s visibility. Nothing here runs on import, so every page module
 * can be imported in Node (SSR, tests); it is called by the `SessionClient` constructor.
 *
 * @param workerUrl - the app's own worker script, instead of the bundled one
 * @throws {@link HostUnavailableError} outside a browser (or in one with neither SharedWorker nor
 *   Web Locks, BroadcastChannel and Worker)
 * @example
 * ```ts
 * const client = new SessionClient(options); // calls browserEnvironment(options.workerUrl)
 * ```
 */
export function browserEnvironment(workerUrl: string | URL | undefined): HostEnvironment {
  const sharedWorker = typeof SharedWorker === 'function';
  if (!sharedWorker && !leaderHostSupported()) {
    throw new HostUnavailableError(
      'SessionClient needs a browser: this environment has neither SharedWorker nor Web Locks, BroadcastChannel ' +
        'and Worker (create the client in the page, e.g. in an effect, not during server rendering)',
    );
  }
  return {
    clock: systemClock,
    sharedWorker,
    connect: (kind, tabId) =>
      kind === 'leader' ? connectLeaderHost(tabId, workerUrl) : connectSharedWorkerHost(workerUrl),
    // No Web Lock here (refused, or none): the host then learns of the tab's end by its deadlines.
    holdLock: async (name) => (await holdLock(name)) ?? (() => undefined),
    waitForRelease,
    visibility: typeof document === 'undefined' ? undefined : documentVisibility(document),
  };
}

/**
 * Visibility as the host should weigh it: a frozen tab (Page Lifecycle `freeze`, a background tab
 * the browser suspends) counts as hidden, so the host asks another tab to refresh; on `resume` the
 * tab reports again, which also makes the host probe its socket (it may have died meanwhile).
 */
function documentVisibility(doc: Document): VisibilitySource {
  let frozen = false;
  return {
    isVisible: () => !frozen && doc.visibilityState === 'visible',
    onChange(listener) {
      const onFreeze = () => {
        frozen = true;
        listener();
      };
      const onResume = () => {
        frozen = false;
        listener();
      };
      doc.addEventListener('visibilitychange', listener);
      doc.addEventListener('freeze', onFreeze);
      doc.addEventListener('resume', onResume);
      return () => {
        doc.removeEventListener('visibilitychange', listener);
        doc.removeEventListener('freeze', onFreeze);
        doc.removeEventListener('resume', onResume);
      };
    },
  };
}
