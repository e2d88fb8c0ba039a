import type { RateLimitOptions } from './types.js';

/**
 * Verdict of {@link RateLimiter.take} for one frame. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const verdict: RateVerdict = limiter.take(performance.now());
 * ```
 */
export type RateVerdict =
  /** Within the limit: process the frame. */
  | 'ok'
  /** Over the limit: refuse this frame with a RATE_LIMITED error. */
  | 'limited'
  /** The connection keeps flooding: close it with 4029. */
  | 'abuse';

/**
 * A per-connection token bucket. Tokens refill at `messagesPerSecond` up to `burst`; each frame takes
 * one. Refused frames fill a second bucket that drains at the same rate: when it holds more than
 * `burst`, the sender is flooding (sending at more than twice its limit, for a while) and the
 * connection should be closed.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ messagesPerSecond: 10, burst: 20 });
 * if (limiter.take(performance.now()) !== 'ok') refuse();
 * ```
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #refused = 0;
  #last: number | undefined;

  /**
   * @param options - average rate and burst, both positive
   * @throws TypeError for a non-positive rate or burst
   */
  constructor(options: RateLimitOptions) {
    if (!(options.messagesPerSecond > 0) || !Number.isFinite(options.messagesPerSecond)) {
      throw new TypeError('"rateLimit.messagesPerSecond" must be a positive number');
    }
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) {
      throw new TypeError('"rateLimit.burst" must be a number of at least 1');
    }
    this.#rate = options.messagesPerSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
  }

  /**
   * Accounts one frame arriving at `now`.
   *
   * @param now - a monotonic time in ms (`performance.now()`)
   */
  take(now: number): RateVerdict {
    const elapsed = this.#last === undefined ? 0 : Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    this.#refused = Math.max(0, this.#refused - elapsed * this.#rate);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 'ok';
    }
    this.#refused += 1;
    return this.#refused > this.#burst ? 'abuse' : 'limited';
  }
}
