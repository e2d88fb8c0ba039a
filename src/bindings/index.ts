/**
 * The framework-free store layer under `shared-session/react`, `/vue` and `/svelte`: stores with
 * `subscribe(listener) → unsubscribe`, a stable `getSnapshot()` and a `getServerSnapshot()` for
 * server rendering. Each store listens to the client only while it has listeners.
 *
 * @packageDocumentation
 */
export type { BindableClient, HistoryOptions, HistoryPage, TopicChange } from './client.js';
export type { ReadableStore } from './store.js';
export { connectionStatusStore, sessionStore, sessionErrorEvents, type SessionErrorEvents } from './session-stores.js';
export { createTopicStore, type TopicSnapshot, type TopicStoreOptions } from './topic-store.js';
export {
  createInfiniteTopicStore,
  type InfiniteTopicSnapshot,
  type PagedTopicOptions,
} from './infinite-topic-store.js';
export { createPaginatedTopicStore, type PaginatedTopicSnapshot } from './paginated-topic-store.js';
export type { PagedSnapshot } from './paged-topic-store.js';
export { DEFAULT_PAGE_SIZE } from './validate.js';
