/**
 * Flow control of one socket's incoming frames ({@link InboundFrames}): a rate limit
 * ({@link RateLimiter}) and a queue that answers the frames in order ({@link SerialQueue}) and
 * stops reading the socket while too much waits in it.
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
 * A token bucket. Tokens refill at `messagesPerSecond` (or bytes per second) up to `burst`; each
 * frame takes one (or its size). Refused amounts fill a second bucket that drains at the same
 * rate: when it holds more than `burst`, the sender is flooding (sending at more than twice its
 * limit, for a while) and the connection should be closed.
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
   * Accounts one frame (or `amount` units, e.g. bytes) arriving at `now`. An amount above the
   * burst is allowed once the bucket is full, so that one large item is never refused for ever.
   *
   * @param now - a monotonic time in ms (`performance.now()`)
   * @param amount - units taken, 1 by default
   */
  take(now: number, amount = 1): RateVerdict {
    const elapsed = this.#last === undefined ? 0 : Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    this.#refused = Math.max(0, this.#refused - elapsed * this.#rate);
    const needed = Math.min(amount, this.#burst);
    if (this.#tokens >= needed) {
      this.#tokens -= amount;
      return 'ok';
    }
    this.#refused += amount;
    return this.#refused > this.#burst ? 'abuse' : 'limited';
  }
}

/** Caps of the frames waiting on one socket; above either the socket is not read. */
export interface InboundLimits {
  /** Most frames waiting or running. */
  maxFrames: number;
  /** Most bytes (as declared by `push`) waiting or running. */
  maxBytes: number;
}

/** Stops and restarts reading a socket; a `ws` `WebSocket` satisfies it. */
export interface ReadControl {
  pause(): void;
  resume(): void;
}

/**
 * Runs tasks one at a time in the order they were pushed, async ones included, so that one
 * socket's frames are answered in order even while a token is being verified.
 */
class SerialQueue {
  readonly #onError: (error: unknown) => void;
  readonly #settled: () => void;
  #tail: Promise<void> = Promise.resolve();
  tasks = 0;
  bytes = 0;

  /**
   * @param onError - receives whatever a task throws or rejects with; the queue goes on
   * @param settled - called after each task
   */
  constructor(onError: (error: unknown) => void, settled: () => void) {
    this.#onError = onError;
    this.#settled = settled;
  }

  push(bytes: number, task: () => void | Promise<void>): void {
    this.tasks++;
    this.bytes += bytes;
    this.#tail = this.#tail.then(async () => {
      try {
        await task();
      } catch (error) {
        this.#onError(error);
      } finally {
        this.tasks--;
        this.bytes -= bytes;
        this.#settled();
      }
    });
  }
}

/**
 * The incoming frames of one socket. Each frame's rate verdict is taken on arrival and its
 * handling queued behind the earlier frames', so answers keep the frames' order. While the queue
 * holds more than its limits the socket is paused, and read again once half of it ran: a burst is
 * served at the server's pace, never refused for its size, and never held beyond the limits (plus
 * what `ws` had already read). After an `abuse` verdict (whose handler should close the socket)
 * later frames are dropped unread.
 */
export class InboundFrames {
  readonly #limiter: RateLimiter | undefined;
  readonly #limits: InboundLimits;
  readonly #control: ReadControl;
  readonly #queue: SerialQueue;
  #flooding = false;
  #paused = false;

  /**
   * @param rateLimit - the connection's rate limit, or `false` for none
   * @param limits - when to stop reading the socket
   * @param control - pauses and resumes the socket
   * @param onError - receives whatever a handler throws or rejects with; later frames go on
   */
  constructor(
    rateLimit: RateLimitOptions | false,
    limits: InboundLimits,
    control: ReadControl,
    onError: (error: unknown) => void,
  ) {
    this.#limiter = rateLimit ? new RateLimiter(rateLimit) : undefined;
    this.#limits = limits;
    this.#control = control;
    this.#queue = new SerialQueue(onError, () => this.#maybeResume());
  }

  /** Whether reading is paused because too much waits. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Takes one frame. `prepare` runs at once with the frame's verdict and returns its handler, so
   * that a refused frame's handler need not keep the frame's text (only what its answer needs).
   *
   * @param bytes - the frame's size, held until it ran (0 for a refused frame)
   * @param prepare - returns the handler to run in turn
   */
  push(bytes: number, prepare: (verdict: RateVerdict) => () => void | Promise<void>): void {
    if (this.#flooding) return;
    const verdict = this.#limiter?.take(performance.now()) ?? 'ok';
    if (verdict === 'abuse') this.#flooding = true;
    this.#queue.push(verdict === 'ok' ? bytes : 0, prepare(verdict));
    if (!this.#paused && (this.#queue.tasks > this.#limits.maxFrames || this.#queue.bytes > this.#limits.maxBytes)) {
      this.#paused = true;
      this.#control.pause();
    }
  }

  #maybeResume(): void {
    if (!this.#paused) return;
    if (this.#queue.tasks > this.#limits.maxFrames / 2 || this.#queue.bytes > this.#limits.maxBytes / 2) return;
    this.#paused = false;
    this.#control.resume();
  }
}
