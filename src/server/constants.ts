/**
 * Tuning constants of the reference server. The defaults of {@link SessionServerOptions} and the
 * numbers in PROTOCOL.md come from here.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * import { createSessionServer, DEFAULT_HEARTBEAT_INTERVAL_MS } from 'shared-session/server';
 * const server = await createSessionServer({ auth: { secret }, heartbeatIntervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS / 2 });
 * ```
 *
 * @module
 */

/** Port the server listens on when `port` is not given. */
export const DEFAULT_PORT = 8787;

/** Interface the server binds to when `host` is not given: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';

/** Largest frame accepted, in bytes (1 MiB). A larger frame closes the socket with 4009. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Messages per second a connection may send on average before frames are refused with RATE_LIMITED. */
export const DEFAULT_RATE_LIMIT_MESSAGES_PER_SECOND = 1000;

/** Messages a connection may send at once above its average rate. */
export const DEFAULT_RATE_LIMIT_BURST = 2000;

/** Interval between WebSocket pings; a socket that did not answer the previous ping is terminated. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

/** Time a new socket has to send its `hello` before it is closed with 4008. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

/** How long the server remembers a session id after its last socket closed (24 h), so a resume reports `resumed: true`. */
export const SESSION_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Most idle sessions the in-memory registry keeps; the least recently used are forgotten first. */
export const MAX_RETAINED_SESSIONS = 100_000;

/** Longest delay `setTimeout` accepts (2^31 − 1 ms, about 24.8 days); longer expiry timers are re-armed. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Longest close reason the WebSocket protocol allows, in UTF-8 bytes (RFC 6455 §5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Frames a connection may have waiting while an earlier one (a token verification) is processed. */
export const MAX_QUEUED_FRAMES = 256;

/** Bytes a connection may have waiting while an earlier frame is processed (4 MiB). */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** How long `close()` waits for sockets to finish their close handshake before terminating them. */
export const SHUTDOWN_GRACE_MS = 2_000;

/** Largest `data` of one change, in UTF-8 bytes of its JSON (256 KiB, the host's own limit). Larger publishes get `error` PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_CHANGE_BYTES = 256 * 1024;

/** Changes read from the store per batch while a subscription catches up. */
export const CATCH_UP_BATCH_SIZE = 500;

/**
 * Bytes a socket may have waiting to be written before a catching-up subscription stops reading
 * the store until the client has taken them (1 MiB): catch-up never floods a slow client.
 */
export const CATCH_UP_BUFFER_BYTES = 1024 * 1024;

/**
 * Bytes a socket may have waiting to be written before its live subscriptions stop receiving the
 * shared frames and fall back to reading the store at the client's pace (4 MiB): a slow consumer
 * costs the server no memory beyond this and never loses a change.
 */
export const MAX_SEND_BUFFER_BYTES = 4 * 1024 * 1024;

/** How often a paused subscription checks whether its socket drained. */
export const DRAIN_POLL_MS = 10;

/** Wait before retrying a store read that failed while a subscription caught up. */
export const STORE_RETRY_MS = 1_000;

/** Directory of the durable topic store when the CLI gets neither `--data` nor `--memory`. */
export const DEFAULT_DATA_DIR = './data';
