/**
 * One small event emitter for every `onX(callback) → unsubscribe` of the page client and the host.
 */

/** A listener of an {@link Emitter}. */
export type Listener<T> = (value: T) => void;

/** Receives what a listener threw. */
export type ListenerErrorReporter = (error: unknown) => void;

/**
 * Rethrows `error` in a microtask of its own: the browser reports it as uncaught (console,
 * `window.onerror`) while the code that emitted carries on. The default {@link ListenerErrorReporter}.
 *
 * @param error - what a listener threw
 */
export function reportListenerError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A typed event source. Listeners run in the order they subscribed; one that throws does not stop
 * the others (its error is reported asynchronously); a listener unsubscribed while an event is
 * being emitted is not called for it, and one subscribed meanwhile hears only later events.
 * Internal to shared-session (not exported from an entry point).
 *
 * @example
 * ```ts
 * const status = new Emitter<ConnectionStatus>();
 * const off = status.on((s) => render(s));
 * status.emit('OPEN');
 * off();
 * ```
 */
export class Emitter<T> {
  // One entry object per `on`, so that adding the same function twice gives two independent subscriptions.
  readonly #listeners = new Set<{ listener: Listener<T> }>();
  readonly #report: ListenerErrorReporter;

  /** @param report - where a throwing listener's error goes; default {@link reportListenerError} */
  constructor(report: ListenerErrorReporter = reportListenerError) {
    this.#report = report;
  }

  /** Number of subscribed listeners. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Subscribes `listener`.
   *
   * @param listener - called with every emitted value
   * @returns a function that unsubscribes (calling it again does nothing)
   * @throws TypeError when `listener` is not a function
   */
  on(listener: Listener<T>): () => void {
    if (typeof listener !== 'function') throw new TypeError('"callback" must be a function');
    const entry = { listener };
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /**
   * Calls every listener with `value`.
   *
   * @param value - the event
   */
  emit(value: T): void {
    if (this.#listeners.size === 0) return;
    for (const entry of [...this.#listeners]) {
      if (!this.#listeners.has(entry)) continue; // unsubscribed by an earlier listener
      try {
        entry.listener(value);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  /** Unsubscribes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
