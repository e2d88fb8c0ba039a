import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { NoActiveSessionError } from '../../../src/errors/index.js';
import type {
  ConnectionStatus,
  EventsPort,
  HostApi,
  HostEvent,
  HostHello,
  HostKind,
  HostStats,
  PublishRequest,
  SessionInfo,
  StartSessionRequest,
  SubscriptionRequest,
  TabCallbacks,
  TabMessage,
  TabRegistration,
} from '../../../src/protocol/host-api.js';
import type { HostConnection } from '../../../src/page/host-connection.js';
import type { HostEnvironment } from '../../../src/page/host-supervisor.js';
import type { Clock } from '../../../src/shared/clock.js';

type Method = keyof HostApi;

/** One call the fake host received, for assertions on order. */
export interface ReceivedCall {
  method: Method;
  /** What identifies it: a publish's topic and data, a subscription's topic and since, … */
  detail?: unknown;
}

/**
 * A session host for unit tests: the `HostApi` shape with every method asynchronous (as the page sees
 * a host through comlink), recording what it receives. A method can be paused (its calls wait until
 * resumed) or silenced for good (its calls never answer — a frozen host).
 */
export class FakeHost {
  readonly kind: HostKind;
  readonly received: ReceivedCall[] = [];
  readonly tabs = new Map<string, { registration: TabRegistration; callbacks: TabCallbacks; events: EventsPort }>();
  status: ConnectionStatus = 'UNINITIALIZED';
  session: SessionInfo | undefined;
  /** Every subscribe and publish request received, in order. */
  readonly subscriptions: SubscriptionRequest[] = [];
  readonly publishes: PublishRequest[] = [];
  /** Answer every publish with an ok outcome on the events port (else the test posts it). */
  autoOutcome = true;
  /** The Web Lock the host says it holds for its life (`HostHello.aliveLock`). */
  aliveLock: string | undefined;
  #seq = 0;
  readonly #paused = new Map<Method, Promise<void>>();
  readonly #resume = new Map<Method, () => void>();

  constructor(kind: HostKind = 'shared-worker') {
    this.kind = kind;
  }

  /** Calls of `method` from now on wait until {@link FakeHost.resume}. */
  pause(method: Method): void {
    if (this.#paused.has(method)) return;
    this.#paused.set(method, new Promise((resolve) => this.#resume.set(method, resolve)));
  }

  /** Lets the waiting and later calls of `method` through. */
  resume(method: Method): void {
    this.#resume.get(method)?.();
    this.#paused.delete(method);
    this.#resume.delete(method);
  }

  /** Calls of `method` never answer. */
  silence(method: Method): void {
    this.#paused.set(method, new Promise<void>(() => undefined));
  }

  /** Names of the received calls, in order. */
  get methods(): Method[] {
    return this.received.map((call) => call.method);
  }

  /** Posts `message` to a tab's events port. */
  post(tabId: string, message: TabMessage): void {
    this.tabs.get(tabId)?.events.postMessage(message);
  }

  /** Sends an event to every attached tab. */
  broadcast(event: HostEvent): void {
    for (const tabId of this.tabs.keys()) this.post(tabId, { type: 'event', event });
  }

  async attach(registration: TabRegistration, callbacks: TabCallbacks, events: EventsPort): Promise<HostHello> {
    await this.#enter('attach');
    this.tabs.set(registration.tabId, { registration, callbacks, events });
    const hello: HostHello = {
      protocol: registration.protocol,
      buildId: 'fake',
      kind: this.kind,
      status: this.status,
      session: this.session,
    };
    if (this.aliveLock !== undefined) hello.aliveLock = this.aliveLock;
    return hello;
  }

  async detach(tabId: string): Promise<void> {
    await this.#enter('detach');
    this.tabs.get(tabId)?.events.close();
    this.tabs.delete(tabId);
  }

  async setVisibility(): Promise<void> {
    await this.#enter('setVisibility');
  }

  async startSession(_tabId: string, request: StartSessionRequest): Promise<SessionInfo> {
    await this.#enter('startSession', { token: request.token, refresh: request.refresh !== undefined });
    this.session = { id: 'session-1', userId: 'alice', roles: [], expiresAt: null, tabs: this.tabs.size };
    this.status = 'OPEN';
    this.broadcast({ type: 'session', session: this.session });
    this.broadcast({ type: 'status', status: 'OPEN' });
    return this.session;
  }

  async stopRefresh(): Promise<void> {
    await this.#enter('stopRefresh');
  }

  async updateSessionToken(_tabId: string, token: string): Promise<SessionInfo> {
    await this.#enter('updateSessionToken', token);
    if (!this.session) throw new NoActiveSessionError();
    return this.session;
  }

  async endSession(): Promise<void> {
    await this.#enter('endSession');
    this.session = undefined;
  }

  async clear(): Promise<void> {
    await this.#enter('clear');
  }

  async connect(): Promise<void> {
    await this.#enter('connect');
  }

  async disconnect(): Promise<void> {
    await this.#enter('disconnect');
  }

  async getSession(): Promise<SessionInfo | undefined> {
    await this.#enter('getSession');
    return this.session;
  }

  async subscribe(_tabId: string, request: SubscriptionRequest): Promise<void> {
    this.subscriptions.push(request);
    await this.#enter('subscribe', { topic: request.topic, since: request.since });
  }

  async unsubscribe(): Promise<void> {
    await this.#enter('unsubscribe');
  }

  async publish(tabId: string, request: PublishRequest): Promise<void> {
    this.publishes.push(request);
    await this.#enter('publish', request.data);
    if (this.autoOutcome) {
      this.post(tabId, {
        type: 'publish-outcome',
        clientId: request.clientId,
        outcome: { ok: true, seq: ++this.#seq, duplicate: false },
      });
    }
  }

  async inspect(): Promise<HostStats> {
    await this.#enter('inspect');
    return {
      kind: this.kind,
      buildId: 'fake',
      status: this.status,
      tabs: this.tabs.size,
      socketsOpened: 0,
      refreshes: 0,
      sessionId: this.session?.id,
      clockOffsetMs: 0,
      topics: 0,
      tabSubscriptions: 0,
      changesReceived: 0,
      outbox: 0,
    };
  }

  async ping(): Promise<number> {
    await this.#enter('ping');
    return Date.now();
  }

  async reloadAllTabs(): Promise<void> {
    await this.#enter('reloadAllTabs');
  }

  async #enter(method: Method, detail?: unknown): Promise<void> {
    this.received.push(detail === undefined ? { method } : { method, detail });
    await this.#paused.get(method);
  }
}

/** A fake {@link HostConnection} to `host`, called directly (no port): deterministic under a fake clock. */
export interface FakeConnection extends HostConnection {
  readonly host: FakeHost;
  /** Rejects `failed` (the host failed to start). */
  fail(error: unknown): void;
  /** Tells the tab a new host replaced this one (a new leader). */
  replace(host: FakeHost): void;
  readonly closed: boolean;
}

/** Connects to `host` directly. */
export function connectDirectly(host: FakeHost): FakeConnection {
  let current = host;
  let closed = false;
  let rejectFailed!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined);
  const replaced: (() => void)[] = [];
  return {
    get host() {
      return current;
    },
    get api() {
      return current as unknown as Comlink.Remote<HostApi>;
    },
    kind: host.kind,
    failed,
    onReplaced: (callback) => void replaced.push(callback),
    close: () => void (closed = true),
    get closed() {
      return closed;
    },
    fail: (error) => rejectFailed(error),
    replace(next) {
      current = next;
      for (const callback of replaced) callback();
    },
  };
}

/** Connects to `host` over a real MessageChannel and comlink, as a SharedWorker's port would. */
export function connectOverComlink(host: FakeHost): HostConnection & { closed: boolean } {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(host, port1 as unknown as Comlink.Endpoint);
  const api = Comlink.wrap<HostApi>(port2 as unknown as Comlink.Endpoint);
  const failed = new Promise<never>(() => undefined);
  let closed = false;
  return {
    api,
    kind: host.kind,
    failed,
    onReplaced: () => undefined,
    close: () => {
      closed = true;
      api[Comlink.releaseProxy]();
      port1.close();
      port2.close();
    },
    get closed() {
      return closed;
    },
  };
}

/** A {@link HostEnvironment} whose hosts are the test's. */
export function fakeEnvironment(
  clock: Clock,
  hosts: Partial<Record<HostKind, () => HostConnection>>,
  options: { sharedWorker?: boolean } = {},
): HostEnvironment & {
  connected: HostKind[];
  locksHeld: Set<string>;
  /** Ends the holder of the Web Lock `name`: those waiting for it are granted it. */
  endLock(name: string): void;
} {
  const connected: HostKind[] = [];
  const locksHeld = new Set<string>();
  const waiting: Array<{ name: string; resolve: (ended: boolean) => void }> = [];
  return {
    clock,
    sharedWorker: options.sharedWorker ?? hosts['shared-worker'] !== undefined,
    connect(kind) {
      connected.push(kind);
      const connect = hosts[kind];
      if (!connect) throw new Error(`the test offers no ${kind} host`);
      return connect();
    },
    async holdLock(name) {
      locksHeld.add(name);
      return () => void locksHeld.delete(name);
    },
    waitForRelease: (name, signal) =>
      new Promise<boolean>((resolve) => {
        waiting.push({ name, resolve });
        signal.addEventListener('abort', () => resolve(false), { once: true });
      }),
    endLock(name) {
      for (const waiter of waiting.splice(0)) {
        if (waiter.name === name) waiter.resolve(true);
        else waiting.push(waiter);
      }
    },
    visibility: undefined,
    connected,
    locksHeld,
  };
}
