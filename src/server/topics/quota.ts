import { RateLimiter } from '../transport/flow-control.js';

/** Publishes between two sweeps of idle users' buckets. */
const SWEEP_EVERY = 1024;

/**
 * The storage quota of the data plane: bytes of change data each user may store per second, on
 * average, across all its connections on this process, with a burst. One socket can therefore not
 * fill the store (issue 10: 125 MiB in 6 s); over the quota a `publish` is refused with
 * `RATE_LIMITED` and the host's outbox sends it again later. Buckets of users who have been idle
 * long enough to be full again are forgotten, so the map holds recent publishers only.
 *
 * @example
 * ```ts
 * const quota = new PublishQuota(1024 * 1024, 8 * 1024 * 1024);
 * if (!quota.take('alice', bytes)) refuse();
 * ```
 */
export class PublishQuota {
  readonly #bytesPerSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { limiter: RateLimiter; lastUse: number }>();
  #sinceSweep = 0;

  /**
   * @param bytesPerSecond - average bytes per user per second
   * @param burst - bytes at once above the average
   */
  constructor(bytesPerSecond: number, burst: number) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#burst = burst;
  }

  /** Users with a bucket now. */
  get users(): number {
    return this.#buckets.size;
  }

  /**
   * Takes `bytes` from the user's quota.
   *
   * @param userId - the publisher
   * @param bytes - the change's size
   * @param now - a monotonic time in ms (default `performance.now()`)
   * @returns whether the publish fits
   */
  take(userId: string, bytes: number, now: number = performance.now()): boolean {
    if (++this.#sinceSweep >= SWEEP_EVERY) this.#sweep(now);
    let bucket = this.#buckets.get(userId);
    if (bucket === undefined) {
      const limiter = new RateLimiter({ messagesPerSecond: this.#bytesPerSecond, burst: this.#burst });
      this.#buckets.set(userId, (bucket = { limiter, lastUse: now }));
    }
    bucket.lastUse = now;
    return bucket.limiter.take(now, bytes) === 'ok';
  }

  /** Forgets buckets idle long enough to be full again (twice the burst's refill time, for the refused count too). */
  #sweep(now: number): void {
    this.#sinceSweep = 0;
    const idleMs = ((2 * this.#burst) / this.#bytesPerSecond) * 1000;
    for (const [userId, bucket] of this.#buckets) if (now - bucket.lastUse > idleMs) this.#buckets.delete(userId);
  }
}
