import * as Comlink from 'comlink';
import { HostUnavailableError } from '../errors/index.js';
import type { HostApi } from '../protocol/host-api.js';
import { HOSTS_CHANNEL, LEADER_LOCK, linkChannelName, type HostsMessage } from '../protocol/host-discovery.js';
import { createBroadcastEndpoint } from '../shared/broadcast-endpoint.js';
import { Emitter } from '../shared/emitter.js';
import { cacheRemoteMethods, type HostConnection, unavailableHost, workerStartError } from './host-connection.js';

/** How often a tab repeats `hello` while no leader host has answered (the leader may be starting). */
export const LEADER_HELLO_INTERVAL_MS = 100;

/** Web Lock that makes one tab, not all, take the leadership over from an unresponsive leader. */
export const TAKE_OVER_LOCK = 'shared-session:leader-take-over';
/** The take-over lock is kept this long, so that tabs noticing the same silence do not steal in turn. */
export const TAKE_OVER_HOLD_MS = 5_000;

/** Suffix of the leader worker's name when it takes over (see `hostSession`'s `takeOver`). */
const TAKE_OVER_SUFFIX = ':take-over';

/** Whether a leader-tab host can run here: Web Locks, BroadcastChannel and dedicated workers. */
export function leaderHostSupported(): boolean {
  return (
    globalThis.navigator?.locks !== undefined && typeof BroadcastChannel === 'function' && typeof Worker === 'function'
  );
}

/**
 * Connects to the leader host, taking part in the election: every tab queues for the
 * {@link LEADER_LOCK} Web Lock; the holder starts the host in a dedicated worker of its own and
 * keeps the lock until it dies, when the next tab in the queue takes over (within the lock's
 * release time, ~100 ms after the tab closed). Tabs find the current host on the hosts
 * BroadcastChannel and talk to it over a private link channel (see `createBroadcastEndpoint`).
 *
 * @param tabId - this tab's id
 * @param workerUrl - the app's own worker script, instead of the bundled one
 */
export function connectLeaderHost(tabId: string, workerUrl: string | URL | undefined): HostConnection {
  const locks = globalThis.navigator?.locks;
  if (!locks || !leaderHostSupported()) {
    return unavailableHost(
      'leader',
      new HostUnavailableError('this browser has neither SharedWorker nor Web Locks, BroadcastChannel and Worker'),
    );
  }

  let rejectFailed!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);
  const replaced = new Emitter<void>();
  const hosts = new BroadcastChannel(HOSTS_CHANNEL);
  const resign = new AbortController();
  let worker: Worker | undefined;
  let hostId: string | undefined;
  let link: (Comlink.Endpoint & { close(): void }) | undefined;
  let api: Comlink.Remote<HostApi> | undefined;
  let answered: (() => void) | undefined;
  let helloTimer: ReturnType<typeof setInterval> | undefined;
  /** When the host this tab follows started (welcome `startedAt`). */
  let hostStartedAt: number | undefined;

  /** Whether this tab holds the leader lock (and so runs the leader host in its worker). */
  let leading = false;
  /** Workers this tab started, and how many it had started when the current host welcomed it. */
  let workersStarted = 0;
  let workersStartedAtWelcome = 0;
  let queued: AbortController | undefined;

  /** Starts the leader host in this tab's dedicated worker (`takeOver`: its host steals the socket). */
  const startWorker = (takeOver: boolean) => {
    worker?.terminate();
    worker = undefined;
    workersStarted++;
    const name = takeOver ? `shared-session-leader${TAKE_OVER_SUFFIX}` : 'shared-session-leader';
    const what = 'the shared-session leader worker';
    try {
      worker =
        workerUrl === undefined
          ? new Worker(new URL('../worker.js', import.meta.url), { type: 'module', name })
          : new Worker(workerUrl, { type: 'module', name });
    } catch (error) {
      rejectFailed(workerStartError(what, workerUrl, error)); // the lock stays held until close()
    }
    worker?.addEventListener('error', (event) => rejectFailed(workerStartError(what, workerUrl, event)));
  };

  /**
   * Asks for the leader lock: queued behind the current leader, or (`steal`) taken from a leader
   * that stopped answering. Held until the tab closes; when another tab steals it, this tab stops
   * its worker (its host is fenced by the stolen socket lock too) and queues again.
   */
  const elect = (steal: boolean) => {
    queued?.abort();
    const waiting = new AbortController();
    queued = steal ? undefined : waiting;
    const options: LockOptions = steal ? { steal: true } : { signal: waiting.signal };
    locks
      .request(LEADER_LOCK, options, () => {
        // This tab leads: its dedicated worker hosts the session until the tab dies.
        leading = true;
        startWorker(steal);
        return new Promise<void>((release) => resign.signal.addEventListener('abort', () => release()));
      })
      .catch(() => {
        if (resign.signal.aborted || waiting.signal.aborted) return; // closed, or replaced by a steal
        // Stolen by a tab that found this one unresponsive (it was frozen): follow the new leader.
        leading = false;
        worker?.terminate();
        worker = undefined;
        elect(false);
        lookForHost();
      });
  };

  const sayHello = () => hosts.postMessage({ type: 'hello', tabId } satisfies HostsMessage);
  const lookForHost = () => {
    clearInterval(helloTimer);
    sayHello();
    helloTimer = setInterval(sayHello, LEADER_HELLO_INTERVAL_MS);
  };
  hosts.addEventListener('message', (event: MessageEvent<HostsMessage>) => {
    const message = event.data;
    if (message?.type === 'welcome' && message.tabId === tabId && message.hostId !== hostId) {
      // Never back to an older leader (one that woke from a freeze after this one took over).
      if (message.startedAt !== undefined && hostStartedAt !== undefined && message.startedAt < hostStartedAt) return;
      hostStartedAt = message.startedAt ?? hostStartedAt;
      clearInterval(helloTimer);
      const replacing = hostId !== undefined;
      hostId = message.hostId;
      workersStartedAtWelcome = workersStarted;
      link?.close();
      link = createBroadcastEndpoint(new BroadcastChannel(linkChannelName(message.hostId, tabId)));
      api = cacheRemoteMethods(Comlink.wrap<HostApi>(link));
      answered?.();
      answered = undefined;
      if (replacing) replaced.emit();
    } else if (message?.type === 'host-ready' && message.kind === 'leader' && message.hostId !== hostId) {
      if (hostStartedAt !== undefined && message.startedAt < hostStartedAt) return; // an older leader
      lookForHost(); // a new leader took over: attach to it
    }
  });
  elect(false);
  lookForHost();

  const ready = new Promise<void>((resolve) => (answered = resolve));
  return {
    get api(): Comlink.Remote<HostApi> {
      if (api) return api;
      // Calls made before the first welcome wait for it.
      return new Proxy({} as Comlink.Remote<HostApi>, {
        get:
          (_, method: string) =>
          (...args: unknown[]) =>
            ready.then(() => (api as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args)),
      });
    },
    kind: 'leader',
    failed,
    onReplaced: (callback) => void replaced.on(callback),
    recover: () => {
      if (resign.signal.aborted) return;
      if (leading) {
        // This tab leads and its own host stopped answering (its worker died or hung): start a new
        // one, which takes the socket over from the old one.
        startWorker(true);
        return;
      }
      // The leader tab stopped answering (frozen): one tab — whoever gets the take-over lock — steals
      // the leadership; the others wait for its host to announce itself.
      locks
        .request(TAKE_OVER_LOCK, { ifAvailable: true }, async (lock) => {
          if (!lock || leading) return;
          elect(true);
          await new Promise((resolve) => setTimeout(resolve, TAKE_OVER_HOLD_MS));
        })
        .catch(() => undefined);
    },
    hostEnded: () => {
      if (resign.signal.aborted) return;
      // This tab's own worker ran the host that ended (it crashed or was killed): start another at
      // once. A worker started since then (this tab just won the election from a leader that
      // closed) is the next host already; starting one more would end it.
      if (leading && workersStarted === workersStartedAtWelcome) startWorker(true);
      else lookForHost();
    },
    close: () => {
      clearInterval(helloTimer);
      resign.abort();
      link?.close();
      hosts.close();
      worker?.terminate();
    },
  };
}
