import { resolve } from 'node:path';
import { createMemoryTopicStore } from './store/memory-store.js';
import { openLmdbTopicStore } from './store/lmdb-store.js';
import type { TopicStore } from './store/topic-store.js';

/**
 * The `store` option of `createSessionServer`: a {@link TopicStore} you opened (the server never
 * closes it), `'memory'` (the default: topics are lost when the process exits), or `{ path }` for
 * the durable LMDB store in that directory (the server opens it and closes it in `close()`).
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const store: TopicStoreOption = { path: './data' };
 * ```
 */
export type TopicStoreOption = TopicStore | 'memory' | { path: string };

/** A store ready for the server, and whether the server must close it. */
export interface OpenedStore {
  store: TopicStore;
  /** Opened by the server from `'memory'` or `{ path }`: closed with the server. */
  owned: boolean;
  /** For the start-up log: `in memory`, `in LMDB at /abs/dir` or `in a custom store`. */
  description: string;
}

/**
 * Resolves the `store` option.
 *
 * @throws TypeError for an option of another shape; the store's error when `{ path }` cannot be opened
 */
export async function openTopicStore(option: TopicStoreOption | undefined = 'memory'): Promise<OpenedStore> {
  if (option === 'memory') return { store: createMemoryTopicStore(), owned: true, description: 'in memory' };
  if (typeof option === 'object' && option !== null) {
    if (isTopicStore(option)) return { store: option, owned: false, description: 'in a custom store' };
    if ('path' in option && typeof option.path === 'string' && option.path.length > 0) {
      const store = await openLmdbTopicStore({ path: option.path });
      return { store, owned: true, description: `in LMDB at ${resolve(option.path)}` };
    }
  }
  throw new TypeError('"store" must be a TopicStore, \'memory\' or { path: string }');
}

function isTopicStore(value: object): value is TopicStore {
  const store = value as Partial<Record<keyof TopicStore, unknown>>;
  return (
    typeof store.append === 'function' &&
    typeof store.read === 'function' &&
    typeof store.head === 'function' &&
    typeof store.close === 'function'
  );
}
