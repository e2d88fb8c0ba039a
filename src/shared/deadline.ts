import { SessionError } from '../errors/index.js';

/**
 * Settles with `promise`, or rejects with a `TIMEOUT` {@link SessionError} after `ms`. Used on every
 * call across a boundary that may never answer (a closed tab, a frozen host, a silent server).
 *
 * @param promise - the call
 * @param ms - deadline in milliseconds
 * @param what - named in the error message, e.g. `'refreshHandler'`
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SessionError('TIMEOUT', `${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
