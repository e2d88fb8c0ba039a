/** First reconnect delay, before jitter. */
export const INITIAL_RECONNECT_DELAY_MS = 250;
/** Upper bound of a reconnect delay. */
export const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential from
 * {@link INITIAL_RECONNECT_DELAY_MS}, capped at {@link MAX_RECONNECT_DELAY_MS}, with "equal jitter"
 * (half fixed, half random) so that many hosts cut at once do not reconnect in lockstep.
 *
 * @param attempt - how many attempts failed in a row
 * @param random - a source in [0, 1); injectable for tests
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, INITIAL_RECONNECT_DELAY_MS * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
