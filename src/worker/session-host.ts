import * as Comlink from 'comlink';
import { SessionError } from '../errors/index.js';
import type {
  EventsPort,
  HistoryPage,
  HistoryRequest,
  HostApi,
  HostHello,
  HostInspection,
  HostKind,
  PublishRequest,
  SessionInfo,
  StartSessionRequest,
  SubscriptionRequest,
  TabCallbacks,
  TabRegistration,
} from '../protocol/host-api.js';
import { checkVersion, describeVersionMismatch, HOST_API_VERSION, MIN_HOST_API_VERSION } from '../protocol/version.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { withDeadline } from '../shared/deadline.js';
import { Emitter } from '../shared/emitter.js';
import { HostLog } from './host-log.js';
import { Outbox } from './outbox.js';
import type { OutboxStore } from './outbox-store.js';
import type { WebSocketFactory } from './server-connection.js';
import { admitRefreshed, admitStart, admitUpdate } from './session-admission.js';
import { SessionController } from './session-controller.js';
import { SessionPersistence, type SessionStore } from './session-store.js';
import { acquireSocketOwnership, type AcquireOwnership } from './socket-owner-lock.js';
import { TabRegistry, type AttachedTab, type TabDeparture } from './tab-registry.js';
import type { TopicCacheStore } from './topic-cache-store.js';
import { TOPIC_CACHE_LIMIT, TopicSubscriptions } from './topic-subscriptions.js';

/** After the last tab leaves, the host keeps the socket this long (a lone tab's reload keeps it). */
export const LAST_TAB_GRACE_MS = 3_000;
/** Longest `attach` waits for the host's alive lock to be granted before answering without it. */
export const ALIVE_LOCK_WAIT_MS = 1_000;

/** How a {@link SessionHost} is set up. */
export interface SessionHostOptions {
  /** Where the host runs, reported to tabs. */
  kind: HostKind;
  /** Build id of this host's code. */
  buildId: string;
  /** Persistence; resolved lazily so that attaching never waits for IndexedDB. */
  stores: HostStores;
  /** Keep the raw token in IndexedDB (off by default). */
  persistToken?: boolean | undefined;
  /** Grace after the last tab left; default {@link LAST_TAB_GRACE_MS}. */
  lastTabGraceMs?: number | undefined;
  /** WebSocket factory (unit tests). */
  createSocket?: WebSocketFactory | undefined;
  /** Socket-owner lock (default: the Web Lock `shared-session:socket-owner`). */
  acquireOwnership?: AcquireOwnership | undefined;
  /** Time source (unit tests inject a fake clock). */
  clock?: Clock | undefined;
  /** Web Locks for tab-death detection (default `navigator.locks`). */
  locks?: LockManager | undefined;
}

/** Where the host persists its state (IndexedDB, or memory when unavailable). */
export interface HostStores {
  session: Promise<SessionStore>;
  topics: Promise<TopicCacheStore>;
  outbox: Promise<OutboxStore>;
}

/**
 * The session host: owns the one WebSocket, the session's token and refresh schedule, and the
 * attached tabs. Runs in the SharedWorker (or a leader tab) and is exposed to every tab as
 * {@link HostApi} over comlink. It composes the tabs ({@link TabRegistry}: attach, death detection,
 * fan-out), the session ({@link SessionController}: phase, socket, refresh) and the data plane
 * ({@link TopicSubscriptions}, {@link Outbox}). Session-changing calls are serialised, so tabs racing
 * to start or end a session see one consistent order.
 */
export class SessionHost implements HostApi {
  readonly #options: SessionHostOptions;
  readonly #clock: Clock;
  readonly #tabs: TabRegistry;
  readonly #tabsLeft = new Emitter<string>();
  readonly #session: SessionController;
  readonly #topics: TopicSubscriptions;
  readonly #outbox: Outbox;
  readonly #log: HostLog;
  #graceTimer: TimerHandle | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #newerBuild: string | undefined;
  #aliveLock: { name: string; held: Promise<boolean> } | undefined;
  /** Subscribes under way, by `tabId/subId`. */
  readonly #adding = new Map<string, Promise<void>>();

  /** @param options - see {@link SessionHostOptions} */
  constructor(options: SessionHostOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = new HostLog(this.#clock, (line, at) => this.#tabs.broadcast({ type: 'log', line, at }));
    this.#tabs = new TabRegistry((tab, why) => this.#onTabGone(tab, why), this.#clock, options.locks);
    this.#topics = new TopicSubscriptions(
      options.stores.topics,
      {
        deliver: (tabId, subId, changes) => this.#tabs.postTo(tabId, { type: 'changes', subId, changes }),
        trimmed: (tabId, subId, after, first) => this.#tabs.postTo(tabId, { type: 'trimmed', subId, after, first }),
        fail: (tabId, subId, code, message) =>
          this.#tabs.postTo(tabId, { type: 'subscription-error', subId, code, message }),
      },
      TOPIC_CACHE_LIMIT,
      this.#clock,
    );
    this.#outbox = new Outbox(options.stores.outbox, (tabId, clientId, outcome) =>
      this.#tabs.postTo(tabId, { type: 'publish-outcome', clientId, outcome }),
    );
    this.#session = new SessionController({
      kind: options.kind,
      buildId: options.buildId,
      persistence: new SessionPersistence(options.stores.session, {
        buildId: options.buildId,
        persistToken: options.persistToken ?? false,
        clock: this.#clock,
      }),
      tabs: this.#tabs,
      log: this.#log,
      clock: this.#clock,
      createSocket: options.createSocket,
      acquireOwnership: options.acquireOwnership ?? acquireSocketOwnership,
      statusChanged: (status) => this.#tabs.broadcast({ type: 'status', status }),
      adoptRefreshed: admitRefreshed,
      data: {
        userChanged: (userId) => {
          this.#topics.setUser(userId);
          this.#outbox.setUser(userId);
        },
        connected: (connection) => {
          this.#topics.onConnected(connection);
          this.#outbox.onConnected(connection);
        },
        disconnected: () => {
          this.#topics.onDisconnected();
          this.#outbox.onDisconnected();
        },
        change: (message) => this.#topics.onChange(message),
        trimmed: (message) => this.#topics.onTrimmed(message),
      },
    });
  }

  // ── tabs ───────────────────────────────────────────────────────────────────────────────────

  async attach(registration: TabRegistration, callbacks: TabCallbacks, events: EventsPort): Promise<HostHello> {
    const verdict = checkVersion(registration.protocol, MIN_HOST_API_VERSION, HOST_API_VERSION);
    if (verdict !== 'ok') {
      const range = { min: MIN_HOST_API_VERSION, max: HOST_API_VERSION };
      throw new SessionError(
        'PROTOCOL_MISMATCH',
        `${describeVersionMismatch('host API', verdict, registration.protocol, range, 'page', 'host')}: reload the page`,
      );
    }
    if (typeof events?.postMessage !== 'function') {
      throw new SessionError('INVALID_ARGUMENT', 'attach needs an events port: update the page code');
    }
    const tab = this.#tabs.add(registration, callbacks as unknown as Comlink.Remote<TabCallbacks>, events);
    this.#clock.clearTimeout(this.#graceTimer);
    this.#session.tabAttached();
    this.#broadcastSession();
    if (this.#newerBuild) {
      this.#tabs.post(tab, { type: 'event', event: { type: 'update-available', buildId: this.#newerBuild } });
    }
    const token = this.#session.session?.token;
    if (this.#options.kind === 'leader' && token !== undefined) {
      this.#tabs.post(tab, { type: 'event', event: { type: 'token', token } });
    }
    // Granted within milliseconds of the worker's start; a lock not held by then is not named.
    const alive = this.#aliveLock;
    const aliveHeld =
      alive !== undefined &&
      (await withDeadline(alive.held, ALIVE_LOCK_WAIT_MS, 'alive lock', this.#clock).catch(() => false));
    // Read after the wait, so that the hello is never older than an event the tab got meanwhile.
    const hello: HostHello = {
      protocol: HOST_API_VERSION,
      buildId: this.#options.buildId,
      kind: this.#options.kind,
      status: this.#session.status,
      session: this.#session.info(),
    };
    if (aliveHeld) hello.aliveLock = alive.name;
    return hello;
  }

  async detach(tabId: string): Promise<void> {
    this.#tabs.remove(tabId);
  }

  async setVisibility(tabId: string, visible: boolean): Promise<void> {
    const tab = this.#tabs.get(tabId);
    if (!tab) return;
    tab.visible = visible;
    if (visible) this.#session.wake('a tab became visible');
  }

  async reloadAllTabs(): Promise<void> {
    this.#tabs.broadcast({ type: 'reload' });
  }

  /** Another host of a newer build started (see `announceHost`): tell every tab. */
  notifyNewerBuild(buildId: string): void {
    this.#newerBuild = buildId;
    this.#log.write(`a newer build started beside this host: ${buildId}`);
    this.#tabs.broadcast({ type: 'update-available', buildId });
  }

  /**
   * The Web Lock this host holds for its life: attaching tabs are told its name (once it is held)
   * and wait for it, to learn at once if the worker ends under them.
   *
   * @param name - the lock (see `hostSession`)
   * @param held - resolves `true` once it is held, `false` if it cannot be
   */
  holdsAliveLock(name: string, held: Promise<boolean>): void {
    this.#aliveLock = { name, held };
  }

  /**
   * Calls `listener` with the id of a tab that left for good: it detached, or its page closed. Not
   * for a tab that stopped answering (frozen: it may come back on the same link).
   *
   * @param listener - called with the tab's id
   * @returns a function that unsubscribes
   */
  onTabLeft(listener: (tabId: string) => void): () => void {
    return this.#tabsLeft.on(listener);
  }

  /** Whether another host took the session over from this one (fenced: it serves no tab any more). */
  get superseded(): boolean {
    return this.#session.phase.name === 'superseded';
  }

  /** Build id of this host. */
  get buildId(): string {
    return this.#options.buildId;
  }

  // ── session ────────────────────────────────────────────────────────────────────────────────

  startSession(tabId: string, request: StartSessionRequest): Promise<SessionInfo> {
    return this.#serial(async () => {
      const tab = this.#tabs.get(tabId);
      if (!tab) throw new SessionError('HOST_UNAVAILABLE', 'this tab is not attached to the host: reload the page');
      return admitStart(this.#session, tab, request);
    });
  }

  async stopRefresh(tabId: string, refreshId: string): Promise<void> {
    this.#tabs.get(tabId)?.refresh.delete(refreshId);
    this.#session.track();
  }

  updateSessionToken(_tabId: string, token: string): Promise<SessionInfo> {
    return this.#serial(() => admitUpdate(this.#session, token));
  }

  endSession(_tabId: string): Promise<void> {
    return this.#serial(async () => this.#session.end('endSession() was called'));
  }

  connect(_tabId: string): Promise<void> {
    return this.#serial(async () => this.#session.connect());
  }

  disconnect(_tabId: string): Promise<void> {
    return this.#serial(async () => this.#session.disconnect());
  }

  async getSession(): Promise<SessionInfo | undefined> {
    return this.#session.info();
  }

  ping(tabId?: string): number {
    if (tabId !== undefined && !this.#tabs.get(tabId)) return -1;
    return this.#clock.now();
  }

  // ── data ───────────────────────────────────────────────────────────────────────────────────

  async clear(_tabId: string): Promise<void> {
    await this.#topics.clear();
  }

  subscribe(tabId: string, request: SubscriptionRequest): Promise<void> {
    const key = `${tabId}/${request.subId}`;
    const adding = this.#subscribe(tabId, request).finally(() => {
      if (this.#adding.get(key) === adding) this.#adding.delete(key);
    });
    this.#adding.set(key, adding);
    return adding;
  }

  async #subscribe(tabId: string, request: SubscriptionRequest): Promise<void> {
    await this.#queue; // a user switch in progress must finish first: never another user's cache
    if (!this.#tabs.get(tabId)) throw new SessionError('HOST_UNAVAILABLE', 'this tab is not attached to the host');
    await this.#topics.add(tabId, request);
  }

  async unsubscribe(tabId: string, subId: string): Promise<void> {
    // An unsubscribe that overtakes its subscribe (still waiting) must not leave it behind.
    await this.#adding.get(`${tabId}/${subId}`)?.catch(() => undefined);
    this.#topics.remove(tabId, subId);
  }

  async history(_tabId: string, request: HistoryRequest): Promise<HistoryPage> {
    await this.#queue; // never another user's cache
    return this.#topics.history(request);
  }

  async publish(tabId: string, request: PublishRequest): Promise<void> {
    await this.#queue;
    await this.#outbox.enqueue(tabId, request);
  }

  async inspect(): Promise<HostInspection> {
    return {
      kind: this.#options.kind,
      buildId: this.#options.buildId,
      status: this.#session.status,
      tabs: this.#tabs.size,
      sessionId: this.#session.session?.id,
      ...this.#topics.stats(),
      outbox: this.#outbox.size,
      ...this.#session.inspect(),
      tabList: this.#tabs.inspect(),
      topicList: this.#topics.inspect(),
      outboxEntries: this.#outbox.inspect(),
      log: this.#log.recent(),
    };
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  #onTabGone(tab: AttachedTab, why: TabDeparture): void {
    tab.callbacks[Comlink.releaseProxy]();
    if (why !== 'unresponsive') this.#tabsLeft.emit(tab.registration.tabId);
    this.#topics.removeTab(tab.registration.tabId);
    this.#broadcastSession();
    if (this.#tabs.size > 0) return this.#session.track(); // its refresh handlers are gone
    this.#clock.clearTimeout(this.#graceTimer);
    this.#graceTimer = this.#clock.setTimeout(() => {
      if (this.#tabs.size === 0) this.#session.tabsGone();
    }, this.#options.lastTabGraceMs ?? LAST_TAB_GRACE_MS);
  }

  /**
   * A tab came or went: the session's tab count changed. Without a session nothing changed, and a
   * "no session" event here would tell a tab that is bringing its session into a new leader host
   * (attached, replay not yet run) that its session ended; an ended session is announced by the
   * controller itself.
   */
  #broadcastSession(): void {
    const session = this.#session.info();
    if (session) this.#tabs.broadcast({ type: 'session', session });
  }

  /** Runs session-changing operations one at a time, in call order. */
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
