import { CloseCode } from '../../protocol/close-codes.js';
import { MAX_TIMER_DELAY_MS } from '../constants.js';

/**
 * Closes a session as its token's expiry does: 4002 TOKEN_EXPIRED, `"token expired"` (the expiry
 * timer of each connection, and `server.expireSessions`).
 *
 * @param connection - an authenticated connection
 */
export function closeExpired(connection: { close(code: number, reason: string): void }): void {
  connection.close(CloseCode.TOKEN_EXPIRED, 'token expired');
}

/**
 * One timer that fires at an absolute epoch time, however far away: `setTimeout` overflows past
 * 2^31 − 1 ms (it would fire at once), so long delays are re-armed in steps.
 */
export class ExpiryTimer {
  readonly #onExpire: () => void;
  readonly #now: () => number;
  #handle: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param onExpire - called once when the armed time is reached
   * @param now - epoch-ms clock (default `Date.now`)
   */
  constructor(onExpire: () => void, now: () => number = Date.now) {
    this.#onExpire = onExpire;
    this.#now = now;
  }

  /**
   * Fires at `at` (epoch ms), replacing any earlier arming. `null` disarms.
   *
   * @param at - epoch ms, or `null` for never
   */
  arm(at: number | null): void {
    this.cancel();
    if (at === null) return;
    const delay = Math.max(0, at - this.#now());
    this.#handle = setTimeout(
      () => {
        this.#handle = undefined;
        if (this.#now() >= at) this.#onExpire();
        else this.arm(at);
      },
      Math.min(delay, MAX_TIMER_DELAY_MS),
    );
    // An armed expiry must not keep the process alive on its own.
    this.#handle.unref?.();
  }

  /** Disarms the timer. */
  cancel(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
