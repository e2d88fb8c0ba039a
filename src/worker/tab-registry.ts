import type { Remote } from 'comlink';
import { SessionError } from '../errors/index.js';
import type {
  EventsPort,
  HostEvent,
  InspectedTab,
  RefreshRegistration,
  TabCallbacks,
  TabMessage,
  TabRegistration,
} from '../protocol/host-api.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { withDeadline } from '../shared/deadline.js';
import { REFRESH_CALL_TIMEOUT_MS } from './refresh-schedule.js';
import type { RefreshCandidate } from './token-refresher.js';

/** A tab that misses this many deadlines in a row is treated as gone. */
export const TAB_MAX_MISSED_DEADLINES = 3;

/** A refresh handler a tab registered, with when and in which order. */
export interface TabRefreshRegistration extends RefreshRegistration {
  registeredAt: number;
  /** Increases with every registration in this host: the most recent one wins ties. */
  order: number;
}

/**
 * Why a tab left the host: it `detached` itself, its page `closed` (its Web Lock was released), or it
 * stopped answering (`unresponsive`: frozen, or dead before its lock went; it may come back and
 * attach again).
 */
export type TabDeparture = 'detached' | 'closed' | 'unresponsive';

/** One attached tab as the host tracks it. */
export interface AttachedTab {
  readonly registration: TabRegistration;
  readonly callbacks: Remote<TabCallbacks>;
  /** The tab's events port: one-way {@link TabMessage}s. */
  readonly events: EventsPort;
  visible: boolean;
  attachedAt: number;
  /** Refresh handlers this tab registered, by refreshId, in registration order. */
  refresh: Map<string, TabRefreshRegistration>;
  missedDeadlines: number;
  /** Aborts the Web Lock request that detects this tab's death. */
  stopWatching: AbortController;
}

/**
 * The tabs attached to a host, and the fan-out to them. Detects a tab's death with the Web Locks
 * API (the tab holds a lock named in its registration for its whole life; the host's request for
 * the same lock is granted when the tab is gone) and with deadlines on calls into the tab.
 */
export class TabRegistry {
  readonly #tabs = new Map<string, AttachedTab>();
  readonly #onGone: (tab: AttachedTab, why: TabDeparture) => void;
  readonly #clock: Clock;
  readonly #locks: LockManager | undefined;
  #registrations = 0;

  /**
   * @param onGone - called once when a tab detached, died or stopped answering, with which of these
   * @param clock - time source for deadlines
   * @param locks - Web Locks (default `navigator.locks`; none: deadlines alone detect dead tabs)
   */
  constructor(
    onGone: (tab: AttachedTab, why: TabDeparture) => void,
    clock: Clock = systemClock,
    locks: LockManager | undefined = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks,
  ) {
    this.#onGone = onGone;
    this.#clock = clock;
    this.#locks = locks;
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
    if (previous) this.#forget(previous);
    const tab: AttachedTab = {
      registration,
      callbacks,
      events,
      visible: registration.visible,
      attachedAt: this.#clock.now(),
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
    if (tab) this.#forget(tab, 'detached');
  }

  /** Posts a message to one tab (never blocks on a slow or dead tab). */
  post(tab: AttachedTab, message: TabMessage): void {
    try {
      tab.events.postMessage(message);
    } catch {
      // Not cloneable or the port is gone: the tab's lock tells us of its death soon.
    }
  }

  /** Posts a message to the tab with this id, if attached. */
  postTo(tabId: string, message: TabMessage): void {
    const tab = this.#tabs.get(tabId);
    if (tab) this.post(tab, message);
  }

  /** Sends an event to every tab. */
  broadcast(event: HostEvent): void {
    for (const tab of this.#tabs.values()) this.post(tab, { type: 'event', event });
  }

  /** The tabs as `inspect()` reports them. */
  inspect(): InspectedTab[] {
    return this.all().map((tab) => ({
      tabId: tab.registration.tabId,
      visible: tab.visible,
      attachedAt: tab.attachedAt,
      buildId: tab.registration.buildId,
      refreshHandlers: tab.refresh.size,
    }));
  }

  /** Registers a refresh handler of a tab. */
  addRefresh(tab: AttachedTab, registration: RefreshRegistration): void {
    const order = ++this.#registrations;
    tab.refresh.set(registration.refreshId, { ...registration, registeredAt: this.#clock.now(), order });
  }

  /** Whether any tab registered a refresh handler. */
  hasRefreshHandler(): boolean {
    for (const tab of this.#tabs.values()) if (tab.refresh.size > 0) return true;
    return false;
  }

  /** Forgets every tab's refresh handlers (the session ended). */
  clearRefresh(): void {
    for (const tab of this.#tabs.values()) tab.refresh.clear();
  }

  /** The `interval` of the most recent registration that set one. */
  refreshInterval(): number | undefined {
    let latest: TabRefreshRegistration | undefined;
    for (const tab of this.#tabs.values()) {
      for (const registration of tab.refresh.values()) {
        if (registration.interval !== undefined && (!latest || registration.order > latest.order)) {
          latest = registration;
        }
      }
    }
    return latest?.interval;
  }

  /** Tabs' refresh handlers to try, best first: visible tabs, then the most recent registration. */
  refreshCandidates(): RefreshCandidate[] {
    const candidates: { tab: AttachedTab; registration: TabRefreshRegistration }[] = [];
    for (const tab of this.#tabs.values()) {
      const registration = [...tab.refresh.values()].at(-1);
      if (registration) candidates.push({ tab, registration });
    }
    candidates.sort(
      (a, b) => Number(b.tab.visible) - Number(a.tab.visible) || b.registration.order - a.registration.order,
    );
    return candidates.map(({ tab, registration }) => ({
      tabId: tab.registration.tabId,
      call: (deadlineMs) => this.callRefresh(tab, registration.refreshId, deadlineMs),
    }));
  }

  /**
   * Runs one tab's refresh handler with a deadline (default {@link REFRESH_CALL_TIMEOUT_MS}); rejects
   * at once when the tab closes meanwhile.
   */
  callRefresh(tab: AttachedTab, refreshId: string, deadlineMs = REFRESH_CALL_TIMEOUT_MS): Promise<string | undefined> {
    const gone = new Promise<never>((_, reject) => {
      const signal = tab.stopWatching.signal;
      const fail = () => reject(new SessionError('HOST_UNAVAILABLE', 'the tab closed'));
      if (signal.aborted) fail();
      signal.addEventListener('abort', fail, { once: true });
    });
    gone.catch(() => undefined); // only observed through the race below
    return this.call(
      tab,
      () => Promise.race([tab.callbacks.refreshToken(refreshId), gone]),
      deadlineMs,
      'refreshHandler',
    );
  }

  /**
   * Calls into a tab with a deadline. A tab that misses {@link TAB_MAX_MISSED_DEADLINES} deadlines
   * in a row is removed (it froze, or died without its lock being released yet).
   */
  async call<T>(tab: AttachedTab, fn: () => Promise<T>, ms: number, what: string): Promise<T> {
    try {
      const value = await withDeadline(fn(), ms, what, this.#clock);
      tab.missedDeadlines = 0;
      return value;
    } catch (error) {
      if ((error as { code?: string }).code === 'TIMEOUT' && ++tab.missedDeadlines >= TAB_MAX_MISSED_DEADLINES) {
        if (this.#tabs.get(tab.registration.tabId) === tab) this.#forget(tab, 'unresponsive');
      }
      throw error;
    }
  }

  #watchLock(tab: AttachedTab): void {
    if (!this.#locks) return;
    this.#locks
      .request(tab.registration.lockName, { signal: tab.stopWatching.signal }, () => {
        if (this.#tabs.get(tab.registration.tabId) === tab) this.#forget(tab, 'closed');
      })
      .catch(() => undefined); // aborted on detach
  }

  /** Drops a tab; `why` is left out when the same tab attached again (nothing departed). */
  #forget(tab: AttachedTab, why?: TabDeparture): void {
    this.#tabs.delete(tab.registration.tabId);
    tab.stopWatching.abort();
    tab.events.close();
    if (why !== undefined) this.#onGone(tab, why);
  }
}
