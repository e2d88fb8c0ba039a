import { SessionError } from '../errors/index.js';
import { type Clock, systemClock } from './clock.js';

/**
 * Settles with `promise`, or rejects with a `TIMEOUT` {@link SessionError} after `ms`. Used on every
 * call across a boundary that may never answer (a closed tab, a frozen host, a silent server).
 *
 * @param promise - the call
 * @param ms - deadline in milliseconds
 * @param what - named in the error message, e.g. `'refreshHandler'`
 * @param clock - whose timer measures the deadline (a fake one in unit tests)
 * @example
 * ```ts
 * const token = await withDeadline(tab.callbacks.refreshToken(id), 10_000, 'refreshHandler');
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string, clock: Clock = systemClock): Promise<T> {
  let timer: unknown;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new SessionError('TIMEOUT', `${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clock.clearTimeout(timer));
}
