/** The refresh handler runs this long before the token's `exp` (spec §3). */
export const REFRESH_LEAD_MS = 1_000;
/**
 * Deadline for one call into a tab's `refreshHandler` before the host fails over to another tab;
 * shortened to half the time left before `exp` (see {@link MIN_REFRESH_CALL_TIMEOUT_MS}).
 */
export const REFRESH_CALL_TIMEOUT_MS = 5_000;
/** The shortest deadline a refresh handler call gets, however close `exp` is. */
export const MIN_REFRESH_CALL_TIMEOUT_MS = 250;
/** First retry delay after every tab's handler failed; doubles up to {@link MAX_REFRESH_RETRY_MS}. */
export const REFRESH_RETRY_MS = 500;
/** Upper bound of the refresh retry delay. */
export const MAX_REFRESH_RETRY_MS = 8_000;
/** Two refreshes are never scheduled closer than this (guards against short-lived returned tokens). */
export const MIN_REFRESH_GAP_MS = 250;

/** What decides when the next refresh runs. */
export interface RefreshTiming {
  /** The token's `exp` in epoch ms of the server's clock, `null` when it never expires. */
  expiresAt: number | null;
  /** Server clock minus local clock, ms. */
  clockOffsetMs: number;
  /** Refresh every `interval` ms instead of before `exp`. */
  interval: number | undefined;
  /** Local `Date.now()`. */
  now: number;
  /** Local time of the last refresh (or session start) for interval mode. */
  since: number;
}

/** The token's expiry on the local clock, or `null`. */
export function localExpiry(expiresAt: number | null, clockOffsetMs: number): number | null {
  return expiresAt === null ? null : expiresAt - clockOffsetMs;
}

/**
 * Local time at which the next refresh should run, or `undefined` for none: every `interval` ms
 * when given, else {@link REFRESH_LEAD_MS} before `exp` corrected by the clock offset; a token
 * without `exp` and no interval is never refreshed. Never earlier than `now`.
 */
export function nextRefreshAt(timing: RefreshTiming): number | undefined {
  if (timing.interval !== undefined) return Math.max(timing.now, timing.since + timing.interval);
  const expiry = localExpiry(timing.expiresAt, timing.clockOffsetMs);
  if (expiry === null) return undefined;
  return Math.max(timing.now, expiry - REFRESH_LEAD_MS);
}

/** Delay before retrying a refresh after `failures` rounds in which every handler failed. */
export function refreshRetryDelay(failures: number): number {
  return Math.min(MAX_REFRESH_RETRY_MS, REFRESH_RETRY_MS * 2 ** Math.max(0, failures - 1));
}
