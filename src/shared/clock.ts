/**
 * Time, injected. Everything that schedules (refresh, expiry, backoff, deadlines, health checks)
 * takes a `Clock`, so unit tests drive it with a fake clock in milliseconds of wall time instead of
 * waiting out real token lifetimes.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The slice of the platform's timers that scheduling code uses. */
export interface Clock {
  /** Epoch milliseconds, like `Date.now()`. */
  now(): number;
  /** Runs `callback` once after `ms` milliseconds. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; `undefined` and already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** The platform's clock: `Date.now`, `setTimeout`, `clearTimeout` of the global scope. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};
