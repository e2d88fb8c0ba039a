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

/**
 * Frames a connection may have waiting while an earlier one is processed before the server stops
 * reading its socket (TCP then pushes back on the client). Equal to {@link DEFAULT_RATE_LIMIT_BURST}
 * so that every burst the rate limit allows is served; with a larger `rateLimit.burst` the queue
 * follows the burst.
 */
export const MAX_QUEUED_FRAMES = DEFAULT_RATE_LIMIT_BURST;

/**
 * Bytes a connection may have waiting while an earlier frame is processed (4 MiB) before the
 * server stops reading its socket until the queue drained to half of it.
 */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/** How long `close()` waits for sockets to finish their close handshake before terminating them. */
export const SHUTDOWN_GRACE_MS = 2_000;

/** Largest `data` of one change, in UTF-8 bytes of its JSON (256 KiB, the host's own limit). Larger publishes get `error` PAYLOAD_TOO_LARGE. */
export const DEFAULT_MAX_CHANGE_BYTES = 256 * 1024;

/** Most changes read from the store per batch while a subscription catches up. */
export const CATCH_UP_BATCH_SIZE = 500;

/**
 * Most bytes of change data read from the store per catch-up batch (1 MiB; at least one change is
 * read): a batch of 500 changes of 256 KiB would otherwise hold 125 MiB for one subscriber.
 */
export const CATCH_UP_READ_BYTES = 1024 * 1024;

/**
 * Bytes a socket may have waiting to be written before a catching-up subscription stops sending
 * (checked before every change, not every batch) and waits until the client has taken them
 * (1 MiB): catch-up never floods a slow client.
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

/**
 * Largest frame accepted from a socket before it is authenticated, in bytes (20 KiB:
 * {@link DEFAULT_MAX_TOKEN_BYTES} plus 4 KiB for the rest of `hello`). Counted on the raw TCP
 * bytes from the upgrade to `welcome`, so neither one big frame nor many small ones can hold more
 * than this per unauthenticated socket. Over it: close 4009, then the socket is destroyed.
 */
export const DEFAULT_MAX_PRE_HELLO_BYTES = 20 * 1024;

/** Longest token accepted in `hello` or `update-token`, in UTF-8 bytes (16 KiB). Longer: 4001 / `error` UNAUTHORIZED. */
export const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;

/**
 * Most sockets that may be open and not yet authenticated at once, overall. Over it the upgrade is
 * answered HTTP 503 and the TCP connection closed, before any WebSocket state exists.
 */
export const DEFAULT_MAX_UNAUTHENTICATED_SOCKETS = 1024;

/**
 * Most unauthenticated sockets at once from one IP address. Over it the upgrade is answered HTTP
 * 429. Behind a reverse proxy every client shares the proxy's address: raise it there.
 */
export const DEFAULT_MAX_UNAUTHENTICATED_PER_IP = 256;

/**
 * How long a socket refused before `welcome` (4000, 4001, 4006, 4009, …) has to answer the close
 * frame before it is destroyed: a browser answers at once, a raw socket that ignores the close
 * frame does not get `ws`'s 30 s.
 */
export const UNAUTHENTICATED_CLOSE_GRACE_MS = 1_000;

/** Most authenticated sockets one user (`sub`) may hold on one server process. Over it: close 4011. */
export const DEFAULT_MAX_SOCKETS_PER_USER = 16;

/** Most topics one connection may be subscribed to at once. Over it: `error` TOO_MANY_SUBSCRIPTIONS. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 1_000;

/**
 * Deepest nesting of arrays and objects accepted in a client frame (the frame object is level 1),
 * checked by a scan of the text before `JSON.parse` (`src/protocol/parse.ts`).
 */
export { DEFAULT_MAX_JSON_DEPTH } from '../protocol/parse.js';

/** Changes a `history` answer holds when the request gives no `limit`. */
export const DEFAULT_HISTORY_LIMIT = 50;

/** Largest `limit` a `history` request may ask for; a larger one is served as this many. */
export const DEFAULT_MAX_HISTORY_LIMIT = 500;

/**
 * Most bytes of change data in one `history` answer (4 MiB; at least one change): an answer that
 * would hold more stops at the newest changes that fit and reports `hasMore`.
 */
export const MAX_HISTORY_BYTES = 4 * 1024 * 1024;

/**
 * Most changes a topic keeps (100,000): appending more drops the oldest. A subscriber whose cursor
 * fell behind the retained log is told `history-trimmed` and receives the retained log from its start.
 */
export const DEFAULT_RETAIN_CHANGES = 100_000;

/** Most bytes of change data (UTF-8 JSON) a topic keeps (64 MiB): appending more drops the oldest changes. */
export const DEFAULT_RETAIN_BYTES = 64 * 1024 * 1024;

/**
 * Oldest change a topic keeps, in ms of age at the next append; `Infinity` (the default) keeps
 * changes whatever their age, within the count and byte limits.
 */
export const DEFAULT_RETAIN_AGE_MS = Number.POSITIVE_INFINITY;

/**
 * Bytes of change data one user may store per second, on average, across all its sockets on one
 * server process (1 MiB/s). Over the quota a `publish` is answered `error` RATE_LIMITED and nothing
 * is stored (the host's outbox retries later).
 */
export const DEFAULT_PUBLISH_BYTES_PER_SECOND = 1024 * 1024;

/** Bytes of change data one user may store at once above its average rate (8 MiB). */
export const DEFAULT_PUBLISH_BYTES_BURST = 8 * 1024 * 1024;
