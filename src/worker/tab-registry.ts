import type { Remote } from 'comlink';
import type {
  EventsPort,
  HostEvent,
  RefreshRegistration,
  TabCallbacks,
  TabMessage,
  TabRegistration,
} from '../protocol/host-api.js';
import { withDeadline } from '../shared/deadline.js';

/** A tab that misses this many deadlines in a row is treated as gone. */
export const TAB_MAX_MISSED_DEADLINES = 3;

/** One attached tab as the host tracks it. */
export interface AttachedTab {
  readonly registration: TabRegistration;
  readonly callbacks: Remote<TabCallbacks>;
  /** The tab's events port: one-way {@link TabMessage}s. */
  readonly events: EventsPort;
  visible: boolean;
  attachedAt: number;
  /** Refresh handlers this tab registered, by refreshId, in registration order. */
  refresh: Map<string, RefreshRegistration & { registeredAt: number }>;
  missedDeadlines: number;
  /** Aborts the Web Lock request that detects this tab's death. */
  stopWatching: AbortController;
}

/**
 * The tabs attached to a host. Detects a tab's death with the Web Locks API (the tab holds a lock
 * named in its registration for its whole life; the host's request for the same lock is granted
 * when the tab is gone) and with deadlines on calls into the tab.
 */
export class TabRegistry {
  readonly #tabs = new Map<string, AttachedTab>();
  readonly #onGone: (tab: AttachedTab) => void;

  /** @param onGone - called once when a tab detached, died or stopped answering */
  constructor(onGone: (tab: AttachedTab) => void) {
    this.#onGone = onGone;
  }

  /** Number of attached tabs. */
  get size(): number {
    return this.#tabs.size;
  }

  /** Attached tabs in attach order. */
  all(): AttachedTab[] {
    return [...this.#tabs.values()];
  }

  /** The tab with this id, if attached. */
  get(tabId: string): AttachedTab | undefined {
    return this.#tabs.get(tabId);
  }

  /** Adds a tab (replacing a stale entry with the same id) and starts watching for its death. */
  add(registration: TabRegistration, callbacks: Remote<TabCallbacks>, events: EventsPort): AttachedTab {
    const previous = this.#tabs.get(registration.tabId);
    if (previous) this.#forget(previous, false);
    const tab: AttachedTab = {
      registration,
      callbacks,
      events,
      visible: registration.visible,
      attachedAt: Date.now(),
      refresh: new Map(),
      missedDeadlines: 0,
      stopWatching: new AbortController(),
    };
    this.#tabs.set(registration.tabId, tab);
    this.#watchLock(tab);
    return tab;
  }

  /** Removes a tab that detached itself. */
  remove(tabId: string): void {
    const tab = this.#tabs.get(tabId);
    if (tab) this.#forget(tab, true);
  }

  /** Posts a message to one tab (never blocks on a slow or dead tab). */
  post(tab: AttachedTab, message: TabMessage): void {
    try {
      tab.events.postMessage(message);
    } catch {
      // Not cloneable or the port is gone: the tab's lock tells us of its death soon.
    }
  }

  /** Sends an event to every tab. */
  broadcast(event: HostEvent): void {
    for (const tab of this.#tabs.values()) this.post(tab, { type: 'event', event });
  }

  /**
   * Calls into a tab with a deadline. A tab that misses {@link TAB_MAX_MISSED_DEADLINES} deadlines
   * in a row is removed (it froze, or died without its lock being released yet).
   */
  async call<T>(tab: AttachedTab, fn: () => Promise<T>, ms: number, what: string): Promise<T> {
    try {
      const value = await withDeadline(fn(), ms, what);
      tab.missedDeadlines = 0;
      return value;
    } catch (error) {
      if ((error as { code?: string }).code === 'TIMEOUT' && ++tab.missedDeadlines >= TAB_MAX_MISSED_DEADLINES) {
        if (this.#tabs.get(tab.registration.tabId) === tab) this.#forget(tab, true);
      }
      throw error;
    }
  }

  #watchLock(tab: AttachedTab): void {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (!locks) return; // no Web Locks: deadlines alone detect dead tabs
    locks
      .request(tab.registration.lockName, { signal: tab.stopWatching.signal }, () => {
        if (this.#tabs.get(tab.registration.tabId) === tab) this.#forget(tab, true);
      })
      .catch(() => undefined); // aborted on detach
  }

  #forget(tab: AttachedTab, notify: boolean): void {
    this.#tabs.delete(tab.registration.tabId);
    tab.stopWatching.abort();
    tab.events.close();
    if (notify) this.#onGone(tab);
  }
}
