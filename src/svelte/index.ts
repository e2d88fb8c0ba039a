/**
 * `shared-session/svelte`: readable stores over the session client (the Svelte store contract, so
 * `$status` works in Svelte 4 and 5 components). `setSessionClient(client)` in a root component
 * makes the client available to the `use…` functions of its descendants; each also takes a
 * `client` explicitly, for use outside components. A store listens to the client only while it
 * has subscribers; in server rendering it holds the server snapshot and never touches the client.
 *
 * @example
 * ```svelte
 * <script>
 *   import { useConnectionStatus, useInfiniteTopic } from 'shared-session/svelte';
 *   const status = useConnectionStatus();
 *   const feed = useInfiniteTopic('chat', { pageSize: 20 });
 * </script>
 * <p>{$status}</p>
 * {#each $feed.changes as change (change.seq)}<p>{change.data.text}</p>{/each}
 * <button disabled={!$feed.hasMore} onclick={$feed.loadMore}>older</button>
 * ```
 *
 * @packageDocumentation
 */
export { setSessionClient, getSessionClient } from './client.js';
export {
  useConnectionStatus,
  useSession,
  useSessionError,
  useTopic,
  useInfiniteTopic,
  usePaginatedTopic,
  type UseTopicOptions,
  type UsePagedTopicOptions,
} from './stores.js';
export type {
  BindableClient,
  InfiniteTopicSnapshot,
  PaginatedTopicSnapshot,
  TopicChange,
  TopicSnapshot,
} from '../bindings/index.js';
