import type { Redis, RedisOptions } from 'ioredis';
import { IOREDIS_PEER, loadOptionalPeer } from '../optional-peer.js';

/**
 * Prefix of every Redis key and channel the server uses, unless `keyPrefix` says otherwise. Several
 * apps (or test runs) can share one Redis with different prefixes.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const backend = await openRedisBackend({ url: 'redis://127.0.0.1:6379', keyPrefix: `${DEFAULT_REDIS_KEY_PREFIX}staging:` });
 * ```
 */
export const DEFAULT_REDIS_KEY_PREFIX = 'shared-session:';

/**
 * Times ioredis retries a command while the connection is down before the command fails: a
 * `publish` then gets `INTERNAL` and the host retries it (deduplicated by its clientId) instead of
 * waiting behind a Redis outage.
 */
export const REDIS_MAX_RETRIES_PER_REQUEST = 2;

/** Milliseconds allowed for one connection attempt to Redis. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Names of the Redis keys and channels of one key prefix.
 *
 * The keys of one topic share a Redis Cluster hash tag (`{…}`), so the append script, which
 * touches the log and the dedup hash together, runs on one node. The topic is percent-encoded in
 * the tag: `{` and `}` in a topic name cannot end the tag early, and two topics never share keys.
 */
export class RedisKeys {
  readonly prefix: string;
  /** Channel on which ended session ids are announced to every process. */
  readonly sessionEnded: string;

  /** @param prefix - prepended to every key and channel */
  constructor(prefix: string = DEFAULT_REDIS_KEY_PREFIX) {
    if (typeof prefix !== 'string') throw new TypeError('"keyPrefix" must be a string');
    this.prefix = prefix;
    this.sessionEnded = `${prefix}session-ended`;
  }

  /** The stream holding a topic's changes; entry id `<seq>-0`, one field `change`. */
  log(topic: string): string {
    return `${this.prefix}topic:{${encodeURIComponent(topic)}}:log`;
  }

  /** The hash clientId → seq of a topic (the outbox's exactly-once state). */
  clientIds(topic: string): string {
    return `${this.prefix}topic:{${encodeURIComponent(topic)}}:ids`;
  }

  /** The bytes of a topic's retained records (retention's `maxBytes`). */
  retainedBytes(topic: string): string {
    return `${this.prefix}topic:{${encodeURIComponent(topic)}}:bytes`;
  }

  /** The pub/sub channel on which a topic's new changes are announced. */
  changes(topic: string): string {
    return `${this.prefix}changes:${encodeURIComponent(topic)}`;
  }

  /** The owner (`sub`) of a session id. */
  session(sessionId: string): string {
    return `${this.prefix}session:${sessionId}`;
  }
}

/**
 * Opens an ioredis client for the server: connected before it resolves (so a wrong URL fails at
 * start), commands fail after {@link REDIS_MAX_RETRIES_PER_REQUEST} reconnect attempts, and a
 * command that was sent when the connection dropped is failed rather than sent again (a retried
 * append would be stored twice when it has no clientId).
 *
 * @param url - `redis://[user:password@]host:port[/db]` or `rediss://…`
 * @param options - more ioredis options
 */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url))
    throw new TypeError('"redis" must be a redis:// or rediss:// URL');
  const ioredis = await loadOptionalPeer(IOREDIS_PEER, () => import('ioredis'));
  const client = new ioredis.Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    autoResendUnfulfilledCommands: false,
    ...options,
  });
  // ioredis reports connection errors here while it reconnects; commands report their own failures.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  return client;
}

/** A Redis URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Longest wait for a graceful `QUIT` before the connection is dropped. */
const QUIT_TIMEOUT_MS = 2_000;

/**
 * Closes a client gracefully (`QUIT` after the pending commands), or at once when it is not
 * connected (a command queued while Redis is unreachable could wait forever).
 */
export async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('quit timed out')), QUIT_TIMEOUT_MS))),
    ]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reports a client's connection trouble once per outage (ioredis emits an error for every
 * reconnect attempt) and its recovery.
 *
 * @param client - the client to watch
 * @param name - which connection, for the message
 * @param report - receives one error per outage and one per recovery
 */
export function reportOutages(client: Redis, name: string, report: (error: unknown) => void): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    report(new Error(`redis ${name} connection failed (reconnecting): ${error.message}`, { cause: error }));
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    report(new Error(`redis ${name} connection restored`));
  });
}
