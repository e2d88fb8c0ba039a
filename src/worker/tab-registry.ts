import type { Remote } from 'comlink';
import type { HostEvent, RefreshRegistration, TabCallbacks, TabRegistration } from '../protocol/host-api.js';
import { withDeadline } from '../shared/deadline.js';

/** Deadline for delivering an event to a tab. */
export const TAB_EVENT_TIMEOUT_MS = 5_000;
/** A tab that misses this many deadlines in a row is treated as gone. */
export const TAB_MAX_MISSED_DEADLINES = 3;

/** One attached tab as the host tracks it. */
export interface AttachedTab {
  readonly registration: TabRegistration;
  readonly callbacks: Remote<TabCallbacks>;
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
  add(registration: TabRegistration, callbacks: Remote<TabCallbacks>): AttachedTab {
    const previous = this.#tabs.get(registration.tabId);
    if (previous) this.#forget(previous, false);
    const tab: AttachedTab = {
      registration,
      callbacks,
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

  /** Sends an event to every tab; never waits for or fails on a slow tab. */
  broadcast(event: HostEvent): void {
    for (const tab of this.#tabs.values()) {
      void this.call(tab, () => tab.callbacks.onHostEvent(event), TAB_EVENT_TIMEOUT_MS, 'tab event').catch(
        () => undefined,
      );
    }
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
    if (notify) this.#onGone(tab);
  }
}
