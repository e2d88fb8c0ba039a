import { setTimeout as sleep } from 'node:timers/promises';
import { DRAIN_POLL_MS } from '../constants.js';
import type { Subscriber } from './peer.js';

/**
 * Waits until a subscriber's socket holds at most `bound` unsent bytes (the client took what was
 * sent), polling every {@link DRAIN_POLL_MS}: `ws` has no drain event on a WebSocket.
 *
 * @param subscriber - the socket's view
 * @param bound - bytes allowed to wait
 * @param stop - ends the wait early (the subscription or socket went away)
 * @returns whether the socket drained (`false` when `stop()` ended the wait)
 */
export async function drained(subscriber: Subscriber, bound: number, stop: () => boolean): Promise<boolean> {
  while (subscriber.bufferedAmount > bound) {
    if (stop()) return false;
    await sleep(DRAIN_POLL_MS, undefined, { ref: false });
  }
  return !stop();
}
