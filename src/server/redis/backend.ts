import { SESSION_RETENTION_MS } from '../constants.js';
import type { SessionRegistry } from '../session/registry.js';
import type { TopicStore } from '../store/topic-store.js';
import type { ChangeFeed } from '../topics/change-feed.js';
import { createRedisChangeFeed } from './change-feed.js';
import { connectRedis, quitRedis, RedisKeys, reportOutages } from './keys.js';
import { createRedisSessionRegistry } from './session-registry.js';
import { resolveRetention } from '../store/retention.js';
import { createRedisTopicStore, type RedisStoreOptions } from './store.js';

/**
 * Options of {@link openRedisBackend}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: RedisBackendOptions = { url: 'redis://127.0.0.1:6379', keyPrefix: 'my-app:', onError: console.error };
 * ```
 */
export interface RedisBackendOptions extends RedisStoreOptions {
  /** How long an idle session is remembered. Default {@link SESSION_RETENTION_MS}. */
  sessionRetentionMs?: number;
  /**
   * Receives background failures: of the change feed, and a lost or restored connection (once per
   * outage). Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/**
 * Everything several server processes share through one Redis: pass its parts to
 * `createSessionServer` in every process. `store: { redis: url }` does this for you.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { store, changeFeed, sessionRegistry } = backend;
 * ```
 */
export interface RedisBackend {
  /** Topic logs (streams) and the clientId dedup state. */
  readonly store: TopicStore;
  /** Fan-out of every process's appends to every process (pub/sub). */
  readonly changeFeed: ChangeFeed;
  /** Session ids and their owners, shared by every process. */
  readonly sessionRegistry: SessionRegistry;
  /** Closes both Redis connections, after the pending commands. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects to Redis for a server process that runs beside others behind a load balancer
 * (spec §7): a {@link TopicStore} whose logs are Redis Streams, a {@link ChangeFeed} over Redis
 * pub/sub so that every process fans out the changes any process appended, and a
 * {@link SessionRegistry} so that a socket landing on another process resumes its session. It
 * holds two connections: one for commands (store and registry) and one in subscriber mode (the
 * feed and the ended-session channel).
 *
 * Import from `shared-session/server`.
 *
 * @param options - `url`, `keyPrefix` (the same in every process of one app), session retention
 * @returns the connected backend
 * @throws TypeError for a URL that is not `redis://` or `rediss://`; an Error when Redis cannot be reached
 *
 * @example
 * ```ts
 * import { createSessionServer, openRedisBackend } from 'shared-session/server';
 *
 * const backend = await openRedisBackend({ url: process.env.REDIS_URL! });
 * const server = await createSessionServer({ port: 8787, auth: { secret }, ...backend });
 * process.on('SIGTERM', async () => {
 *   await server.close();
 *   await backend.close();
 * });
 * ```
 */
export async function openRedisBackend(options: RedisBackendOptions): Promise<RedisBackend> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const keys = new RedisKeys(options.keyPrefix);
  const retentionMs = options.sessionRetentionMs ?? SESSION_RETENTION_MS;
  const onError = options.onError ?? ((error: unknown) => console.error('shared-session redis:', error));
  const client = await connectRedis(options.url);
  let subscriber;
  try {
    // A subscriber connection may only subscribe; it must not give up on commands queued while it
    // reconnects, since SUBSCRIBE is how it recovers.
    subscriber = await connectRedis(options.url, { maxRetriesPerRequest: null });
    await subscriber.subscribe(keys.sessionEnded);
  } catch (error) {
    client.disconnect();
    subscriber?.disconnect();
    throw error;
  }
  reportOutages(client, 'command', onError);
  reportOutages(subscriber, 'subscriber', onError);
  const store = createRedisTopicStore(client, keys, resolveRetention(options.retention));
  const changeFeed = createRedisChangeFeed(subscriber, client, keys, onError);
  const sessionRegistry = createRedisSessionRegistry(client, subscriber, keys, retentionMs);
  let closing: Promise<void> | undefined;
  const connections = subscriber;
  return {
    store,
    changeFeed,
    sessionRegistry,
    close() {
      closing ??= (async () => {
        await Promise.all([store.close(), changeFeed.close(), sessionRegistry.close()]);
        await Promise.all([quitRedis(client), quitRedis(connections)]);
      })();
      return closing;
    },
  };
}
