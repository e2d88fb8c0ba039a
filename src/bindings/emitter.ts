/**
 * Listeners of one event. Each `add` is its own entry (the same function added twice is called
 * twice and removed one entry at a time); a listener removed during an `emit` is not called; a
 * throwing listener does not stop the others.
 */
export class Emitter<A> {
  readonly #entries = new Set<{ listener: (value: A) => void }>();

  /** How many listeners are added. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * @returns a function that removes this entry and says whether it was still there
   */
  add(listener: (value: A) => void): () => boolean {
    if (typeof listener !== 'function') throw new TypeError('"listener" must be a function');
    const entry = { listener };
    this.#entries.add(entry);
    return () => this.#entries.delete(entry);
  }

  /** Calls every listener with `value`. */
  emit(value: A): void {
    for (const entry of [...this.#entries]) {
      if (!this.#entries.has(entry)) continue;
      try {
        entry.listener(value);
      } catch (error) {
        // Surfaced like an uncaught error, after the other listeners ran.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
