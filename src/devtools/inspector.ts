import type { ConnectionStatus, HostInspection, HostKind, SessionInfo } from '../protocol/host-api.js';
import type { SessionErrorType } from '../protocol/error-codes.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { withDeadline } from '../shared/deadline.js';

/**
 * The devtools panel's data loop: listens to a client's events, calls `inspect()` on them and, while
 * the panel is open and the page visible, every {@link DEVTOOLS_REFRESH_MS}. No timer and no
 * listener while it has no client or is not running (the element is detached from the DOM).
 */

/** How often an open panel on a visible page asks the host for its state, ms. */
export const DEVTOOLS_REFRESH_MS = 1000;
/** How long the panel waits for one `inspect()` before it shows the host as not answering, ms. */
export const DEVTOOLS_INSPECT_TIMEOUT_MS = 5000;

/**
 * The slice of `SessionClient` the panel uses (a `SessionClient` is one): its events and the one
 * documented inspection call. Never a private field.
 */
export interface DevtoolsClient {
  readonly connectionStatus: ConnectionStatus;
  readonly hostKind: HostKind;
  inspect(): Promise<HostInspection>;
  onConnectionStatusChange(callback: (status: ConnectionStatus) => void, runImmediately?: boolean): () => void;
  onSessionChange(callback: (session: SessionInfo | undefined) => void, runImmediately?: boolean): () => void;
  onSessionError(callback: (type: SessionErrorType) => void): () => void;
}

/** Whether the page is visible (`document.visibilityState`), and when that changes. */
export interface VisibilitySource {
  readonly visible: boolean;
  /** @returns a function that stops listening */
  onChange(callback: () => void): () => void;
}

/** What the panel knows: the client's events and the last inspection. */
export interface DevtoolsSnapshot {
  status: ConnectionStatus;
  hostKind: HostKind | undefined;
  /** The last successful `inspect()`. */
  inspection: HostInspection | undefined;
  /** Local epoch ms of {@link DevtoolsSnapshot.inspection}. */
  inspectedAt: number | undefined;
  /** Why the last `inspect()` failed (`undefined` when it succeeded). */
  inspectError: string | undefined;
  /** The last session error this tab heard, and when (local epoch ms). */
  lastSessionError: { type: SessionErrorType; at: number } | undefined;
}

/** Options of {@link DevtoolsInspector}. */
export interface InspectorOptions {
  clock: Clock;
  visibility: VisibilitySource;
  /** Called with every new snapshot. */
  onUpdate(snapshot: DevtoolsSnapshot): void;
  /** Poll interval while open and visible, ms (default {@link DEVTOOLS_REFRESH_MS}). */
  intervalMs?: number;
}

type Phase =
  /** No client, or not running: no listener, no timer. */
  | { name: 'off' }
  /** Between inspections; `timer` is the next poll (only while open and visible). */
  | { name: 'idle'; timer: TimerHandle | undefined }
  /** An inspection is out; `again` asks for another one right after it. */
  | { name: 'fetching'; again: boolean; done: Promise<void> };

const emptySnapshot = (client: DevtoolsClient | undefined): DevtoolsSnapshot => ({
  status: client?.connectionStatus ?? 'UNINITIALIZED',
  hostKind: client?.hostKind,
  inspection: undefined,
  inspectedAt: undefined,
  inspectError: undefined,
  lastSessionError: undefined,
});

/**
 * Drives the panel's snapshots. Internal to `shared-session/devtools` (the element owns one).
 *
 * @example
 * ```ts
 * const inspector = new DevtoolsInspector({ clock: systemClock, visibility, onUpdate: render });
 * inspector.client = client;
 * inspector.running = true; // connected to the DOM
 * inspector.open = true; // poll while visible
 * ```
 */
export class DevtoolsInspector {
  readonly #options: InspectorOptions;
  #client: DevtoolsClient | undefined;
  #running = false;
  #open = false;
  #phase: Phase = { name: 'off' };
  /** Bumped whenever the loop stops or the client changes: answers of an older generation are dropped. */
  #generation = 0;
  #unlisten: (() => void)[] = [];
  #snapshot: DevtoolsSnapshot = emptySnapshot(undefined);

  /** @param options - see {@link InspectorOptions} */
  constructor(options: InspectorOptions) {
    this.#options = options;
  }

  /** The client inspected; setting another one stops listening to the previous one. */
  get client(): DevtoolsClient | undefined {
    return this.#client;
  }

  set client(client: DevtoolsClient | undefined) {
    if (client === this.#client) return;
    this.#stop();
    this.#client = client;
    this.#snapshot = emptySnapshot(client);
    this.#options.onUpdate(this.#snapshot);
    this.#reconcile();
  }

  /** Whether the loop may run at all (the element is connected to the DOM). */
  get running(): boolean {
    return this.#running;
  }

  set running(running: boolean) {
    this.#running = running;
    this.#reconcile();
  }

  /** Whether the panel is expanded: only then does it poll (events refresh it either way). */
  get open(): boolean {
    return this.#open;
  }

  set open(open: boolean) {
    const opened = open && !this.#open;
    this.#open = open;
    this.#reconcile();
    if (opened) void this.refresh();
  }

  /** The current snapshot. */
  get snapshot(): DevtoolsSnapshot {
    return this.#snapshot;
  }

  /**
   * Inspects the host now (coalesced with one already out).
   *
   * @returns resolves once an inspection that started after this call has been reported
   */
  refresh(): Promise<void> {
    const phase = this.#phase;
    if (phase.name === 'off') return Promise.resolve();
    if (phase.name === 'fetching') {
      phase.again = true;
      return phase.done;
    }
    this.#options.clock.clearTimeout(phase.timer);
    const next: Phase = { name: 'fetching', again: false, done: Promise.resolve() };
    this.#phase = next;
    next.done = this.#fetchLoop(next, this.#generation);
    return next.done;
  }

  async #fetchLoop(phase: Extract<Phase, { name: 'fetching' }>, generation: number): Promise<void> {
    do {
      phase.again = false;
      await this.#inspectOnce(generation);
    } while (phase.again && generation === this.#generation);
    if (generation !== this.#generation) return;
    this.#phase = { name: 'idle', timer: undefined };
    this.#reconcile();
  }

  async #inspectOnce(generation: number): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const { clock } = this.#options;
    let update: Partial<DevtoolsSnapshot>;
    try {
      const inspection = await withDeadline(client.inspect(), DEVTOOLS_INSPECT_TIMEOUT_MS, 'inspect()', clock);
      update = { inspection, inspectedAt: clock.now(), inspectError: undefined, hostKind: inspection.kind };
    } catch (error) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      update = { inspectError: `${typeof code === 'string' ? `${code}: ` : ''}${String(message ?? error)}` };
    }
    if (generation === this.#generation) this.#update(update);
  }

  #update(change: Partial<DevtoolsSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    this.#options.onUpdate(this.#snapshot);
  }

  /** Brings listeners and the poll timer in line with client, running, open and visibility. */
  #reconcile(): void {
    const client = this.#client;
    if (!client || !this.#running) return this.#stop();
    if (this.#phase.name === 'off') {
      this.#listen(client);
      this.#phase = { name: 'idle', timer: undefined };
      void this.refresh();
      return;
    }
    const phase = this.#phase;
    if (phase.name !== 'idle') return;
    const polling = this.#open && this.#options.visibility.visible;
    if (polling && phase.timer === undefined) {
      phase.timer = this.#options.clock.setTimeout(() => {
        phase.timer = undefined;
        void this.refresh();
      }, this.#options.intervalMs ?? DEVTOOLS_REFRESH_MS);
    } else if (!polling && phase.timer !== undefined) {
      this.#options.clock.clearTimeout(phase.timer);
      phase.timer = undefined;
    }
  }

  #listen(client: DevtoolsClient): void {
    const refresh = () => void this.refresh();
    this.#unlisten = [
      client.onConnectionStatusChange((status) => {
        this.#update({ status });
        refresh();
      }, true),
      client.onSessionChange(refresh),
      client.onSessionError((type) => {
        this.#update({ lastSessionError: { type, at: this.#options.clock.now() } });
        refresh();
      }),
      this.#options.visibility.onChange(() => {
        this.#reconcile();
        if (this.#options.visibility.visible) refresh();
      }),
    ];
  }

  #stop(): void {
    this.#generation++;
    for (const off of this.#unlisten) off();
    this.#unlisten = [];
    if (this.#phase.name === 'idle') this.#options.clock.clearTimeout(this.#phase.timer);
    this.#phase = { name: 'off' };
  }
}
