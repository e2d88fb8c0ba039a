import { Emitter } from './emitter.js';

/**
 * A value that changes over time, in the shape every framework binding reads: React's
 * `useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)`, a Vue `shallowRef` kept in
 * step, a Svelte readable store.
 *
 * @example
 * ```ts
 * const off = store.subscribe(() => render(store.getSnapshot()));
 * ```
 */
export interface ReadableStore<T> {
  /**
   * Calls `listener` (with no argument) after every change of the snapshot.
   *
   * @returns a function that unsubscribes; calling it again does nothing
   */
  subscribe(listener: () => void): () => void;
  /** The current value: the same object until something changed. */
  getSnapshot(): T;
  /** The value server rendering uses: constant, and reading it never touches the client. */
  getServerSnapshot(): T;
}

/**
 * Base of every store: listeners, change notification and reference counting. The store is
 * connected to the client (`connect`) only while it has listeners, so a component that mounts,
 * unmounts and mounts again (React StrictMode) leaves exactly one client subscription, and a store
 * nobody listens to costs nothing.
 */
export abstract class ExternalStore<T> implements ReadableStore<T> {
  readonly #listeners = new Emitter<void>();
  #snapshot: T;
  readonly #serverSnapshot: T;

  /**
   * @param initial - the snapshot before anything is known
   * @param server - the snapshot of server rendering
   */
  protected constructor(initial: T, server: T) {
    this.#snapshot = initial;
    this.#serverSnapshot = server;
  }

  /** Whether the store has listeners (and so is connected to the client). */
  protected get active(): boolean {
    return this.#listeners.size > 0;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('"listener" must be a function');
    // Connect before adding: a value the client reports at once lands in the snapshot, which every
    // binding reads right after subscribing.
    if (this.#listeners.size === 0) this.connect();
    const remove = this.#listeners.add(listener);
    return () => {
      if (remove() && this.#listeners.size === 0) this.disconnect();
    };
  };

  readonly getSnapshot = (): T => {
    if (this.#listeners.size === 0) this.syncIdle();
    return this.#snapshot;
  };

  readonly getServerSnapshot = (): T => this.#serverSnapshot;

  /** Replaces the snapshot and notifies the listeners; the same value again is no change. */
  protected set(next: T): void {
    if (Object.is(next, this.#snapshot)) return;
    this.#snapshot = next;
    this.#listeners.emit();
  }

  /** The current snapshot, for subclasses building the next one. */
  protected get snapshot(): T {
    return this.#snapshot;
  }

  /** Starts listening to the client (first listener). */
  protected abstract connect(): void;
  /** Stops listening to the client (last listener gone). */
  protected abstract disconnect(): void;
  /** Brings the snapshot up to date while no listener keeps it so (read on `getSnapshot`). */
  protected syncIdle(): void {}
}
