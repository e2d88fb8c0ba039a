import type { Clock, TimerHandle } from '../../../src/shared/clock.js';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A manual {@link Clock} for unit tests: time moves only when the test calls {@link FakeClock.advance}
 * (or {@link FakeClock.runUntilIdle}), timers fire in order of their due time, and every `await`
 * between them lets promise chains settle — so a test of a 60-minute token lifetime runs in
 * milliseconds.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  /** @param start - initial epoch ms */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due time of the next timer, or `undefined`. */
  get nextAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this.#timers.values()) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way (including timers those
   * timers set), letting microtasks and I/O-free promise chains settle after each.
   */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await flushPromises();
      const next = this.#due(until);
      if (!next) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = until;
    await flushPromises();
  }

  /** Advances to an absolute epoch ms. */
  advanceTo(at: number): Promise<void> {
    return this.advance(Math.max(0, at - this.#now));
  }

  /** Lets pending promise chains settle without moving time. */
  flush(): Promise<void> {
    return flushPromises();
  }

  #due(until: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.at <= until && (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) {
        next = timer;
      }
    }
    return next;
  }
}

/** Settles queued microtasks (several rounds, for promise chains of some depth). */
export async function flushPromises(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
