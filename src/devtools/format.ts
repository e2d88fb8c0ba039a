import { CloseCode } from '../protocol/close-codes.js';

/**
 * Text formats of the devtools panel: durations, clock times, short ids and the meaning of
 * WebSocket close codes. Pure functions, so the panel's wording is unit-tested in Node.
 */

/** Standard WebSocket close codes (RFC 6455 §7.4.1) the host may see, with what they mean here. */
const STANDARD_CLOSES: Readonly<Record<number, string>> = {
  1000: 'normal closure',
  1001: 'going away',
  1005: 'no status code',
  1006: 'connection lost (no close frame)',
  1007: 'invalid frame data',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'server error',
  1012: 'service restart',
  1013: 'try again later',
};

/** The reference server's close codes by number (`4002` → `TOKEN_EXPIRED`). */
const SERVER_CLOSES: ReadonlyMap<number, string> = new Map(
  Object.entries(CloseCode).map(([name, code]) => [code, name]),
);

/**
 * What a WebSocket close code means: the reference server's name for 4000–4999 codes
 * (`TOKEN_EXPIRED`), the standard meaning for 1000–1015 (`connection lost (no close frame)`).
 *
 * @param code - a close code as the host recorded it
 * @returns a short description; `application code` / `unknown code` for codes without one
 * @example
 * ```ts
 * describeCloseCode(4002); // 'TOKEN_EXPIRED'
 * describeCloseCode(1006); // 'connection lost (no close frame)'
 * ```
 */
export function describeCloseCode(code: number): string {
  return (
    SERVER_CLOSES.get(code) ??
    STANDARD_CLOSES[code] ??
    (code >= 4000 && code <= 4999 ? 'application code' : 'unknown code')
  );
}

/**
 * A duration for people: `850 ms`, `12 s`, `4 min 05 s`, `2 h 03 min`.
 *
 * @param ms - milliseconds (negative values are formatted by their magnitude)
 * @example
 * ```ts
 * formatDuration(245_000); // '4 min 05 s'
 * ```
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const seconds = Math.floor(abs / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * How far `at` lies from `now`: `in 12 s`, `3 s ago`, `now` (within half a second).
 *
 * @param at - epoch ms
 * @param now - epoch ms on the same clock
 */
export function formatRelative(at: number, now: number): string {
  const delta = at - now;
  if (Math.abs(delta) < 500) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/**
 * The local wall-clock time of `at`, `HH:MM:SS` (with `.mmm` when `millis`).
 *
 * @param at - epoch ms
 * @param millis - append milliseconds (log lines)
 */
export function formatClockTime(at: number, millis = false): string {
  const date = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return millis ? `${time}.${String(date.getMilliseconds()).padStart(3, '0')}` : time;
}

/** Characters of an id the panel shows (a UUID's first group: unique enough among a few tabs). */
export const SHORT_ID_LENGTH = 8;

/**
 * The first {@link SHORT_ID_LENGTH} characters of an id (tab ids, client ids); the panel puts the
 * whole id in a `title`.
 *
 * @param id - a UUID or any id
 */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}
