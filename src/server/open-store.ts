import { resolve } from 'node:path';
import { openRedisBackend, type RedisBackendOptions } from './redis/backend.js';
import { redactUrl } from './redis/keys.js';
import type { SessionRegistry } from './session/registry.js';
import { openLmdbTopicStore } from './store/lmdb-store.js';
import { createMemoryTopicStore } from './store/memory-store.js';
import { DEFAULT_RETENTION, type TopicRetention } from './store/retention.js';
import type { TopicStore } from './store/topic-store.js';
import type { ChangeFeed } from './topics/change-feed.js';

/**
 * The `store` option of `createSessionServer`: a {@link TopicStore} you opened (the server never
 * closes it), `'memory'` (the default: topics are lost when the process exits), `{ path }` for
 * the durable LMDB store in that directory, or `{ redis: url, keyPrefix? }` for several server
 * processes behind a load balancer: topics in Redis Streams, fan-out over Redis pub/sub and the
 * session registry in Redis (`openRedisBackend`). The server opens and closes the last three.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const store: TopicStoreOption = process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : { path: './data' };
 * ```
 */
export type TopicStoreOption = TopicStore | 'memory' | { path: string } | { redis: string; keyPrefix?: string };

/** A store ready for the server, with what came with it and how to close what the server opened. */
export interface OpenedStore {
  store: TopicStore;
  /** For the start-up log: `in memory`, `in LMDB at /abs/dir`, `in Redis at redis://…` or `in a custom store`. */
  description: string;
  /** A feed shared with the other processes of the store, when the store comes with one (Redis). */
  changeFeed?: ChangeFeed;
  /** A registry shared with the other processes of the store, when the store comes with one (Redis). */
  sessionRegistry?: SessionRegistry;
  /** Closes what the server opened (the store, and the feed and registry that came with it). */
  close(): Promise<void>;
}

/**
 * Resolves the `store` option.
 *
 * @param option - the option
 * @param onError - background failures of a Redis change feed
 * @param retention - what each topic of a store the server opens keeps (a store passed in keeps its own)
 * @throws TypeError for an option of another shape; the store's error when it cannot be opened
 */
export async function openTopicStore(
  option: TopicStoreOption | undefined = 'memory',
  onError: (error: unknown) => void = (error) => console.error(error),
  retention: TopicRetention = DEFAULT_RETENTION,
): Promise<OpenedStore> {
  if (option === 'memory') {
    const store = createMemoryTopicStore({ retention });
    return { store, description: 'in memory', close: () => store.close() };
  }
  if (typeof option === 'object' && option !== null) {
    if (isTopicStore(option)) {
      return { store: option, description: 'in a custom store', close: async () => {} };
    }
    if ('path' in option && typeof option.path === 'string' && option.path.length > 0) {
      const store = await openLmdbTopicStore({ path: option.path, retention });
      return { store, description: `in LMDB at ${resolve(option.path)}`, close: () => store.close() };
    }
    if ('redis' in option && typeof option.redis === 'string') {
      const backendOptions: RedisBackendOptions = { url: option.redis, onError, retention };
      if (option.keyPrefix !== undefined) backendOptions.keyPrefix = option.keyPrefix;
      const backend = await openRedisBackend(backendOptions);
      return {
        store: backend.store,
        description: `in Redis at ${redactUrl(option.redis)}`,
        changeFeed: backend.changeFeed,
        sessionRegistry: backend.sessionRegistry,
        close: () => backend.close(),
      };
    }
  }
  throw new TypeError('"store" must be a TopicStore, \'memory\', { path: string } or { redis: string }');
}

function isTopicStore(value: object): value is TopicStore {
  const store = value as Partial<Record<keyof TopicStore, unknown>>;
  return (
    typeof store.append === 'function' &&
    typeof store.read === 'function' &&
    typeof store.readBefore === 'function' &&
    typeof store.head === 'function' &&
    typeof store.close === 'function'
  );
}
