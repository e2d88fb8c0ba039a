import * as Comlink from 'comlink';
import { HostUnavailableError, SessionError } from '../errors/index.js';
import type { HostApi, HostHello, HostKind, TabCallbacks, TabMessage } from '../protocol/host-api.js';
import { HOST_API_VERSION, LIBRARY_BUILD_ID } from '../protocol/version.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { withDeadline } from '../shared/deadline.js';
import type { HostConnection } from './host-connection.js';
import { HOST_CALL_TIMEOUT_MS, type HostRpc } from './host-rpc.js';

/** How often a tab checks that its host still answers. */
export const HOST_HEALTH_INTERVAL_MS = 5_000;
/** Deadline of one health ping (a healthy host answers within milliseconds). */
export const HOST_HEALTH_TIMEOUT_MS = 3_000;
/** Health pings missed in a row before the host counts as unresponsive. */
export const HOST_HEALTH_MAX_MISSES = 2;
/** With `host: 'auto'`, a SharedWorker that has not answered `attach` by then is given up for a leader host. */
export const SHARED_WORKER_ATTACH_TIMEOUT_MS = 5_000;
/** How long a closing tab waits for the host to confirm `detach` before letting go of it anyway. */
export const DETACH_TIMEOUT_MS = 1_000;

/** Where the host runs: `'auto'` is the SharedWorker, falling back to a leader tab. */
export type HostMode = 'auto' | 'shared-worker' | 'leader';

/**
 * The tab's link to its host. `recovering` is attaching to a host that took over from another
 * (a new leader, or the leader that replaces a silent SharedWorker): the tab's session is replayed
 * into it before held calls go out. `closing`: `close()` ran, calls in flight still settle.
 */
export type HostPhase =
  | { readonly name: 'attaching' | 'recovering'; readonly host: HostConnection }
  | { readonly name: 'attached'; readonly host: HostConnection; misses: number; healthTimer: TimerHandle }
  | { readonly name: 'failed'; readonly host: HostConnection; readonly error: SessionError }
  | { readonly name: 'closing' | 'closed'; readonly host: HostConnection };

/** What the page offers the supervisor; the browser's in `SessionClient`, fakes in unit tests. */
export interface HostEnvironment {
  readonly clock: Clock;
  /** Whether a SharedWorker host can be started here (else only a leader host can). */
  readonly sharedWorker: boolean;
  /** Starts (or joins) a host of `kind` for the tab `tabId`. */
  connect(kind: HostKind, tabId: string): HostConnection;
  /** Holds the Web Lock `name` for the tab's life; resolves with its release once held. */
  holdLock(name: string): Promise<() => void>;
  /** Resolves `true` once the Web Lock `name` is free (its holder ended), `false` if aborted first. */
  waitForRelease(name: string, signal: AbortSignal): Promise<boolean>;
  /** The page's visibility (`document`), or `undefined` outside a page. */
  readonly visibility: VisibilitySource | undefined;
}

/** The slice of `document` that tells whether the tab is visible. */
export interface VisibilitySource {
  isVisible(): boolean;
  /** @returns a function that stops listening */
  onChange(listener: () => void): () => void;
}

/** What the supervisor needs of the tab it attaches (implemented by `SessionClient`). */
export interface SupervisedTab {
  readonly tabId: string;
  /** A Web Lock the tab holds until it dies; the host requests it to learn of the death. */
  readonly lockName: string;
  /** Handed to the host in `attach`. */
  readonly callbacks: TabCallbacks;
  /** A message from the host on the tab's events port. */
  onMessage(message: TabMessage): void;
  /** The host answered `attach`. */
  onAttached(hello: HostHello): void;
  /** A new host took over: bring it the tab's session and subscriptions (held calls go out after). */
  replay(api: Comlink.Remote<HostApi>): Promise<void>;
  /** The host stopped answering. */
  onUnavailable(error: HostUnavailableError): void;
}

const noop = () => undefined;

/**
 * Keeps a tab attached to a session host: attaches (holding the tab's Web Lock first), pings the
 * host for health, re-attaches and replays the tab's state when a new leader takes over, and with
 * `host: 'auto'` moves from a SharedWorker that fails or falls silent to a leader-tab host. Its
 * {@link HostPhase} changes in {@link HostSupervisor.#enter} only; it opens and holds the
 * {@link HostRpc} to match. Internal to `SessionClient`.
 *
 * @example
 * ```ts
 * const supervisor = new HostSupervisor('auto', tab, rpc, environment); // starts attaching
 * await supervisor.close(rpc.close(new SessionError('CLIENT_CLOSED', 'closed')));
 * ```
 */
export class HostSupervisor {
  readonly #mode: HostMode;
  readonly #tab: SupervisedTab;
  readonly #rpc: HostRpc<Comlink.Remote<HostApi>>;
  readonly #env: HostEnvironment;
  #phase: HostPhase;
  /** Bumped by every attach, so that an attach overtaken by a newer one stops where it is. */
  #generation = 0;
  #lock: Promise<() => void> | undefined;
  #eventsPort: MessagePort | undefined;
  /** Waits for the end of the SharedWorker host the tab is attached to (its {@link HostHello.aliveLock}). */
  #hostEndWatch: AbortController | undefined;
  #stopVisibility: () => void = noop;

  /**
   * @param mode - where the host runs
   * @param tab - the tab to attach
   * @param rpc - the tab's calls, opened while attached
   * @param environment - clock, host connectors, lock and visibility
   * @throws what `environment.connect` throws (no host can run here)
   */
  constructor(mode: HostMode, tab: SupervisedTab, rpc: HostRpc<Comlink.Remote<HostApi>>, environment: HostEnvironment) {
    this.#mode = mode;
    this.#tab = tab;
    this.#rpc = rpc;
    this.#env = environment;
    const host = this.#connect(mode === 'leader' || !environment.sharedWorker ? 'leader' : 'shared-worker');
    this.#phase = { name: 'attaching', host };
    void this.#attach(host, 'attaching'); // failures end in the 'failed' phase
    this.#stopVisibility =
      environment.visibility?.onChange(() => {
        const phase = this.#phase;
        if (phase.name !== 'attached') return; // the next attach sends the visibility anyway
        // Best effort: visibility only steers which tab the host asks to refresh.
        phase.host.api.setVisibility(tab.tabId, environment.visibility?.isVisible() ?? true).catch(noop);
      }) ?? noop;
  }

  /** The current phase (for tests and `hostKind`). */
  get phase(): HostPhase {
    return this.#phase;
  }

  /** Where the current (or, once closed, the last) host runs. */
  get kind(): HostKind {
    return this.#phase.host.kind;
  }

  /**
   * Reports an unresponsive host (a call past its deadline) and, with `host: 'auto'`, moves the tab
   * from the SharedWorker to a leader-tab host. Ignored while recovering or closing.
   *
   * @param error - what to report to `onHostUnavailable`
   */
  reportUnresponsive(error: HostUnavailableError): void {
    const phase = this.#phase;
    if (phase.name === 'recovering' || phase.name === 'closing' || phase.name === 'closed') return;
    this.#tab.onUnavailable(error);
    // A leader host that fell silent: restart it, or take the leadership over from a frozen leader.
    if (phase.host.kind === 'leader') return phase.host.recover?.();
    if (this.#mode !== 'auto') return;
    // Detach from the silent worker: should it wake up, it sees no tab, closes its socket after the
    // grace and releases the socket-owner lock to the leader host.
    const silent = phase.host;
    void silent.api
      .detach(this.#tab.tabId)
      .catch(noop)
      .finally(() => silent.close());
    void this.#attach(this.#connect('leader'), 'recovering'); // failures end in the 'failed' phase
  }

  /**
   * Stops supervising (no health pings, no fallback, no replay) and, once `drained` settles — the
   * tab's calls in flight and publish waits — detaches from the host and lets go of it.
   *
   * @param drained - settles when the tab has nothing pending
   */
  async close(drained: Promise<unknown>): Promise<void> {
    const phase = this.#phase;
    if (phase.name === 'closing' || phase.name === 'closed') return;
    this.#stopVisibility();
    this.#enter({ name: 'closing', host: phase.host });
    await drained.catch(noop);
    await withDeadline(phase.host.api.detach(this.#tab.tabId), DETACH_TIMEOUT_MS, 'detach', this.#env.clock).catch(
      noop,
    );
    this.#enter({ name: 'closed', host: phase.host });
    this.#hostEndWatch?.abort();
    void this.#lock?.then((release) => release(), noop); // a lock that failed is not held
    this.#eventsPort?.close();
    phase.host.close();
  }

  /** The one place the phase changes; keeps the RPC and the health timer in step with it. */
  #enter(next: HostPhase): void {
    const previous = this.#phase;
    if (previous.name === 'attached') this.#env.clock.clearTimeout(previous.healthTimer);
    this.#phase = next;
    switch (next.name) {
      case 'attaching':
      case 'recovering':
        this.#rpc.hold();
        break;
      case 'attached':
        this.#rpc.open(next.host.api);
        break;
      case 'failed':
        this.#rpc.fail(next.error);
        break;
      case 'closing':
      case 'closed':
        break;
    }
  }

  #connect(kind: HostKind): HostConnection {
    const host = this.#env.connect(kind, this.#tab.tabId);
    host.failed.catch((error: unknown) => {
      // While attaching, the attach itself fails with it (and may fall back).
      const phase = this.#phase;
      if ((phase.name === 'attached' || phase.name === 'closing') && phase.host === host)
        this.#rpc.rejectPending(error);
    });
    host.onReplaced(() => {
      const phase = this.#phase;
      if (phase.name !== 'closing' && phase.name !== 'closed' && phase.host === host) {
        void this.#attach(host, 'recovering'); // failures end in the 'failed' phase
      }
    });
    return host;
  }

  /** Attaches to `host` (falling back to a leader host in `auto` mode), then replays when recovering. */
  async #attach(host: HostConnection, name: 'attaching' | 'recovering'): Promise<void> {
    const generation = ++this.#generation;
    this.#enter({ name, host });
    // Overtaken by a newer attach, or by close(): a closing tab still takes the host, for its held calls.
    const current = () => generation === this.#generation && this.#phase.name !== 'closed';
    const closing = () => this.#phase.name === 'closing';
    try {
      this.#lock ??= this.#env.holdLock(this.#tab.lockName); // held before the host learns its name
      await this.#lock;
      let hello: HostHello;
      try {
        hello = await this.#attachOnce(host);
      } catch (error) {
        // With host: 'auto', a SharedWorker that fails to start or to answer gives way to a leader tab.
        if (this.#mode !== 'auto' || host.kind !== 'shared-worker' || !current() || closing()) {
          throw error;
        }
        host.close();
        host = this.#connect('leader');
        this.#enter({ name, host });
        hello = await this.#attachOnce(host);
      }
      if (!current()) return;
      if (!closing()) {
        this.#watchHostEnd(host, hello, generation);
        this.#tab.onAttached(hello);
        if (name === 'recovering') await this.#tab.replay(host.api);
        if (!current()) return;
      }
      // A closing tab takes the host only for the calls it made before close().
      if (closing()) return this.#rpc.open(host.api);
      this.#enter({ name: 'attached', host, misses: 0, healthTimer: this.#scheduleHealthCheck(generation) });
    } catch (error) {
      if (!current()) return;
      const typed =
        error instanceof SessionError && error.code !== 'TIMEOUT'
          ? error
          : new HostUnavailableError(`the session host did not answer: ${String(error)}`, { cause: error });
      if (closing()) return this.#rpc.fail(typed);
      this.#enter({ name: 'failed', host, error: typed });
    }
  }

  async #attachOnce(host: HostConnection): Promise<HostHello> {
    // One-way traffic (events, changes, outcomes) comes on a plain port: no reply, no timer per message.
    const events = new MessageChannel();
    events.port1.onmessage = (message: MessageEvent<TabMessage>) => this.#tab.onMessage(message.data);
    this.#eventsPort?.close();
    this.#eventsPort = events.port1;
    const deadline =
      this.#mode === 'auto' && host.kind === 'shared-worker' ? SHARED_WORKER_ATTACH_TIMEOUT_MS : HOST_CALL_TIMEOUT_MS;
    const registration = {
      tabId: this.#tab.tabId,
      lockName: this.#tab.lockName,
      protocol: HOST_API_VERSION,
      buildId: LIBRARY_BUILD_ID,
      visible: this.#env.visibility?.isVisible() ?? true,
    };
    const attached = host.api.attach(
      registration,
      Comlink.proxy(this.#tab.callbacks),
      Comlink.transfer(events.port2, [events.port2]),
    );
    return withDeadline(Promise.race([attached, host.failed]), deadline, 'the session host', this.#env.clock);
  }

  /**
   * A host that says which Web Lock it holds for its life is watched through it: when its worker
   * ends with tabs attached the tab hears of it at once, instead of after missed health pings
   * (~10 s). A SharedWorker that ended (it crashed, or a test killed it) is left as an
   * unresponsive one; a leader host's worker ends with its tab too, an ordinary hand-over that the
   * leader connection handles without reporting the host unavailable.
   */
  #watchHostEnd(host: HostConnection, hello: HostHello, generation: number): void {
    this.#hostEndWatch?.abort();
    this.#hostEndWatch = undefined;
    if (hello.aliveLock === undefined) return;
    const watch = new AbortController();
    this.#hostEndWatch = watch;
    void this.#env.waitForRelease(hello.aliveLock, watch.signal).then((ended) => {
      if (!ended || generation !== this.#generation || this.#phase.host !== host) return;
      if (host.kind === 'leader') return host.hostEnded?.();
      this.reportUnresponsive(new HostUnavailableError('the session host ended (its SharedWorker stopped)'));
    });
  }

  /** Pings the host {@link HOST_HEALTH_INTERVAL_MS} after the previous ping started, never two at once. */
  #scheduleHealthCheck(generation: number, after = HOST_HEALTH_INTERVAL_MS): TimerHandle {
    return this.#env.clock.setTimeout(() => void this.#checkHealth(generation), after);
  }

  async #checkHealth(generation: number): Promise<void> {
    const phase = this.#phase;
    if (phase.name !== 'attached' || generation !== this.#generation) return;
    const startedAt = this.#env.clock.now();
    let missed: { error: unknown } | undefined;
    let answer = 0;
    try {
      const ping = phase.host.api.ping(this.#tab.tabId);
      answer = await withDeadline(ping, HOST_HEALTH_TIMEOUT_MS, 'the session host', this.#env.clock);
    } catch (error) {
      missed = { error };
    }
    if (this.#phase !== phase) return; // re-attached or closing meanwhile
    if (answer < 0) {
      // The host dropped this tab (it missed deadlines while frozen): attach again and replay.
      void this.#attach(phase.host, 'recovering'); // failures end in the 'failed' phase
      return;
    }
    phase.misses = missed ? phase.misses + 1 : 0;
    const wait = Math.max(0, startedAt + HOST_HEALTH_INTERVAL_MS - this.#env.clock.now());
    phase.healthTimer = this.#scheduleHealthCheck(generation, wait);
    if (phase.misses < HOST_HEALTH_MAX_MISSES) return;
    phase.misses = 0;
    this.reportUnresponsive(
      new HostUnavailableError(`the session host did not answer a health check within ${HOST_HEALTH_TIMEOUT_MS} ms`, {
        cause: missed?.error,
      }),
    );
  }
}
