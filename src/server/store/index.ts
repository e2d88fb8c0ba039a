/**
 * Topic-log stores of the reference server (spec §6–§7): the {@link TopicStore} interface, an
 * in-memory implementation and the durable LMDB one (the Redis one is in `../redis/`).
 * Re-exported by `shared-session/server`, so import from `shared-session/server`.
 *
 * @example
 * ```ts
 * import { createMemoryTopicStore, openLmdbTopicStore, type TopicStore } from 'shared-session/server';
 *
 * const store: TopicStore = dataDir ? await openLmdbTopicStore({ path: dataDir }) : createMemoryTopicStore();
 * ```
 *
 * @module
 */
export type { AppendOptions, AppendResult, ReadOptions, StoredChange, TopicStore } from './topic-store.js';
export { createMemoryTopicStore, type MemoryTopicStoreOptions } from './memory-store.js';
export { LMDB_STORE_FORMAT, openLmdbTopicStore, type LmdbTopicStoreOptions } from './lmdb-store.js';
export { MAX_STORED_CLIENT_ID_BYTES, MAX_STORED_TOPIC_BYTES } from './preamble.js';
