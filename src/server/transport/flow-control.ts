/**
 * Flow control of one socket's incoming frames ({@link InboundFrames}): a rate limit
 * ({@link RateLimiter}) and a bounded queue that answers the frames in order ({@link SerialQueue}).
 *
 * @module
 */

/**
 * Per-connection token bucket: `messagesPerSecond` on average, `burst` at once. A frame over the
 * limit is answered with an `error` (code `RATE_LIMITED`); a connection that keeps sending at more
 * than twice its limit is closed with 4029.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const rateLimit: RateLimitOptions = { messagesPerSecond: 50, burst: 100 };
 * ```
 */
export interface RateLimitOptions {
  messagesPerSecond: number;
  burst: number;
}

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

/** Caps of a {@link SerialQueue}. */
export interface SerialQueueLimits {
  /** Most tasks waiting or running. */
  maxTasks: number;
  /** Most bytes (as declared by `push`) waiting or running. */
  maxBytes: number;
}

/**
 * Runs tasks one at a time in the order they were pushed, async ones included, so that one
 * socket's frames are answered in order even while a token is being verified. Bounded, so that a
 * client cannot pile up frames behind a slow verification.
 */
class SerialQueue {
  readonly #limits: SerialQueueLimits;
  readonly #onError: (error: unknown) => void;
  #tail: Promise<void> = Promise.resolve();
  #tasks = 0;
  #bytes = 0;

  /**
   * @param limits - caps on waiting work
   * @param onError - receives whatever a task throws or rejects with; the queue goes on
   */
  constructor(limits: SerialQueueLimits, onError: (error: unknown) => void) {
    this.#limits = limits;
    this.#onError = onError;
  }

  /**
   * Appends a task.
   *
   * @param bytes - the size it holds in memory until it ran
   * @param task - the work
   * @returns `false`, without queueing, when the task would exceed the limits
   */
  push(bytes: number, task: () => void | Promise<void>): boolean {
    if (this.#tasks >= this.#limits.maxTasks || this.#bytes + bytes > this.#limits.maxBytes) return false;
    this.#tasks++;
    this.#bytes += bytes;
    this.#tail = this.#tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      } finally {
        this.#tasks--;
        this.#bytes -= bytes;
      }
    });
    return true;
  }
}

/**
 * The incoming frames of one socket. Each frame's rate verdict is taken on arrival and its
 * handling queued behind the earlier frames', so answers keep the frames' order. After an `abuse`
 * verdict (whose handler should close the socket) later frames are dropped unread. A refused
 * frame does not count against the queue's byte limit.
 */
export class InboundFrames {
  readonly #limiter: RateLimiter | undefined;
  readonly #queue: SerialQueue;
  #flooding = false;

  /**
   * @param rateLimit - the connection's rate limit, or `false` for none
   * @param limits - caps on frames waiting
   * @param onError - receives whatever a handler throws or rejects with; later frames go on
   */
  constructor(rateLimit: RateLimitOptions | false, limits: SerialQueueLimits, onError: (error: unknown) => void) {
    this.#limiter = rateLimit ? new RateLimiter(rateLimit) : undefined;
    this.#queue = new SerialQueue(limits, onError);
  }

  /**
   * Takes one frame.
   *
   * @param bytes - its size
   * @param handle - runs in turn with the frame's verdict
   * @returns `false`, without queueing, when the frame would exceed the queue's limits
   */
  push(bytes: number, handle: (verdict: RateVerdict) => void | Promise<void>): boolean {
    if (this.#flooding) return true;
    const verdict = this.#limiter?.take(performance.now()) ?? 'ok';
    if (verdict === 'abuse') this.#flooding = true;
    return this.#queue.push(verdict === 'ok' ? bytes : 0, () => handle(verdict));
  }
}
