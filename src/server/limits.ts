import {
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_MAX_HISTORY_LIMIT,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_PRE_HELLO_BYTES,
  DEFAULT_MAX_SOCKETS_PER_USER,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  DEFAULT_MAX_TOKEN_BYTES,
  DEFAULT_MAX_UNAUTHENTICATED_PER_IP,
  DEFAULT_MAX_UNAUTHENTICATED_SOCKETS,
  DEFAULT_PUBLISH_BYTES_BURST,
  DEFAULT_PUBLISH_BYTES_PER_SECOND,
  MAX_QUEUED_BYTES,
  MAX_SEND_BUFFER_BYTES,
} from './constants.js';
import { DEFAULT_RETENTION, resolveRetention, type TopicRetention } from './store/retention.js';

/**
 * The limits that keep the server steady under hostile load (spec §7 "Limits that hold under
 * attack"), as one option: `createSessionServer({ limits: { maxSocketsPerUser: 4 } })`. Every
 * field has a default from `constants.ts`, documented in README and PROTOCOL.md.
 *
 * @module
 */

/**
 * Every limit of the server. Pass any subset as `limits`; the rest keep their defaults.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const limits: Partial<ServerLimits> = { maxUnauthenticatedPerIp: 2_000, retention: { maxChanges: 1_000 } };
 * const server = await createSessionServer({ auth: { secret }, limits });
 * ```
 */
export interface ServerLimits {
  /** Raw bytes a socket may send before `welcome` (frames, headers, everything). Default {@link DEFAULT_MAX_PRE_HELLO_BYTES}. */
  maxPreHelloBytes: number;
  /** Longest token in `hello` / `update-token`, UTF-8 bytes. Default {@link DEFAULT_MAX_TOKEN_BYTES}. */
  maxTokenBytes: number;
  /** Unauthenticated sockets at once, overall (HTTP 503 above). Default {@link DEFAULT_MAX_UNAUTHENTICATED_SOCKETS}. */
  maxUnauthenticatedSockets: number;
  /** Unauthenticated sockets at once per IP address (HTTP 429 above). Default {@link DEFAULT_MAX_UNAUTHENTICATED_PER_IP}. */
  maxUnauthenticatedPerIp: number;
  /** Authenticated sockets per user on this process (close 4011 above). Default {@link DEFAULT_MAX_SOCKETS_PER_USER}. */
  maxSocketsPerUser: number;
  /** Topics subscribed at once per connection (`error` TOO_MANY_SUBSCRIPTIONS above). Default {@link DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION}. */
  maxSubscriptionsPerConnection: number;
  /** Deepest nesting of a client frame (checked before parsing). Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  maxJsonDepth: number;
  /**
   * Frames waiting on one socket before the server stops reading it. Default: the rate limit's
   * burst (`MAX_QUEUED_FRAMES` without one), never less than the burst.
   */
  maxQueuedFrames: number | undefined;
  /** Bytes waiting on one socket before the server stops reading it. Default {@link MAX_QUEUED_BYTES}. */
  maxQueuedBytes: number;
  /**
   * Bytes a socket may have unsent before its live subscriptions stop and catch up from the store
   * at the client's pace. Default {@link MAX_SEND_BUFFER_BYTES}.
   */
  maxSendBufferBytes: number;
  /** `limit` of a `history` request that gives none. Default {@link DEFAULT_HISTORY_LIMIT}. */
  historyLimit: number;
  /** Largest `limit` served by one `history` answer. Default {@link DEFAULT_MAX_HISTORY_LIMIT}. */
  maxHistoryLimit: number;
  /** Bytes of change data one user may store per second (per process). Default {@link DEFAULT_PUBLISH_BYTES_PER_SECOND}. */
  publishBytesPerSecond: number;
  /** Bytes one user may store at once above its rate. Default {@link DEFAULT_PUBLISH_BYTES_BURST}. */
  publishBytesBurst: number;
  /** What each topic's log keeps. Default: {@link DEFAULT_RETAIN_CHANGES}, {@link DEFAULT_RETAIN_BYTES}, no age limit. */
  retention: TopicRetention;
}

/**
 * Highest `maxJsonDepth` a server accepts: the frames it sends nest data two levels deeper than a
 * client's `publish`, and hosts parse server frames up to `MAX_SERVER_FRAME_DEPTH` (1024) levels.
 */
const MAX_CLIENT_JSON_DEPTH = 1000;

/** `limits` as the caller may pass it: any subset, `retention` itself partial. */
export type ServerLimitsOption = Partial<Omit<ServerLimits, 'retention'>> & { retention?: Partial<TopicRetention> };

/** The defaults of {@link ServerLimits}. Import from `shared-session/server`. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxPreHelloBytes: DEFAULT_MAX_PRE_HELLO_BYTES,
  maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES,
  maxUnauthenticatedSockets: DEFAULT_MAX_UNAUTHENTICATED_SOCKETS,
  maxUnauthenticatedPerIp: DEFAULT_MAX_UNAUTHENTICATED_PER_IP,
  maxSocketsPerUser: DEFAULT_MAX_SOCKETS_PER_USER,
  maxSubscriptionsPerConnection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  maxQueuedFrames: undefined,
  maxQueuedBytes: MAX_QUEUED_BYTES,
  maxSendBufferBytes: MAX_SEND_BUFFER_BYTES,
  historyLimit: DEFAULT_HISTORY_LIMIT,
  maxHistoryLimit: DEFAULT_MAX_HISTORY_LIMIT,
  publishBytesPerSecond: DEFAULT_PUBLISH_BYTES_PER_SECOND,
  publishBytesBurst: DEFAULT_PUBLISH_BYTES_BURST,
  retention: DEFAULT_RETENTION,
});

/**
 * Checks the `limits` option and fills in its defaults.
 *
 * @param option - what the caller passed
 * @throws TypeError for an unknown field or a limit that is not a positive integer
 */
export function resolveLimits(option: ServerLimitsOption | undefined): ServerLimits {
  if (option === undefined) return DEFAULT_LIMITS;
  if (typeof option !== 'object' || option === null) throw new TypeError('"limits" must be an object');
  for (const key of Object.keys(option)) {
    if (!(key in DEFAULT_LIMITS)) throw new TypeError(`"limits.${key}" is not a limit`);
  }
  const integer = (key: Exclude<keyof ServerLimits, 'retention' | 'maxQueuedFrames'>): number => {
    const value = option[key] ?? DEFAULT_LIMITS[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`"limits.${key}" must be a positive integer`);
    return value;
  };
  const maxQueuedFrames = option.maxQueuedFrames;
  if (maxQueuedFrames !== undefined && (!Number.isSafeInteger(maxQueuedFrames) || maxQueuedFrames < 1))
    throw new TypeError('"limits.maxQueuedFrames" must be a positive integer');
  const limits: ServerLimits = {
    maxPreHelloBytes: integer('maxPreHelloBytes'),
    maxTokenBytes: integer('maxTokenBytes'),
    maxUnauthenticatedSockets: integer('maxUnauthenticatedSockets'),
    maxUnauthenticatedPerIp: integer('maxUnauthenticatedPerIp'),
    maxSocketsPerUser: integer('maxSocketsPerUser'),
    maxSubscriptionsPerConnection: integer('maxSubscriptionsPerConnection'),
    maxJsonDepth: integer('maxJsonDepth'),
    maxQueuedFrames,
    maxQueuedBytes: integer('maxQueuedBytes'),
    maxSendBufferBytes: integer('maxSendBufferBytes'),
    historyLimit: integer('historyLimit'),
    maxHistoryLimit: integer('maxHistoryLimit'),
    publishBytesPerSecond: integer('publishBytesPerSecond'),
    publishBytesBurst: integer('publishBytesBurst'),
    retention: resolveRetention(option.retention),
  };
  if (limits.maxJsonDepth > MAX_CLIENT_JSON_DEPTH)
    throw new TypeError(`"limits.maxJsonDepth" must be at most ${MAX_CLIENT_JSON_DEPTH}`);
  if (limits.historyLimit > limits.maxHistoryLimit)
    throw new TypeError('"limits.historyLimit" must not exceed "limits.maxHistoryLimit"');
  return limits;
}
