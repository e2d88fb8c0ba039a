import { onDestroy } from 'svelte';
import type { Readable } from 'svelte/store';
import {
  type BindableClient,
  connectionStatusStore,
  createInfiniteTopicStore,
  createPaginatedTopicStore,
  createTopicStore,
  type InfiniteTopicSnapshot,
  type PaginatedTopicSnapshot,
  type ReadableStore,
  sessionErrorEvents,
  sessionStore,
  type PagedTopicOptions,
  type TopicSnapshot,
  type TopicStoreOptions,
} from '../bindings/index.js';
import type { ConnectionStatus, JsonValue, SessionErrorType, SessionInfo } from '../page/index.js';
import { getSessionClient } from './client.js';

/** Server rendering: no `window`. Stores then hold the server snapshot and never subscribe. */
const onServer = typeof window === 'undefined';

/** The Svelte store contract over a store of the bindings layer. */
function readable<T>(store: ReadableStore<T>): Readable<T> {
  if (onServer) {
    const value = store.getServerSnapshot();
    return {
      subscribe(run) {
        run(value);
        return () => undefined;
      },
    };
  }
  return {
    subscribe(run) {
      const off = store.subscribe(() => run(store.getSnapshot()));
      run(store.getSnapshot());
      return off;
    },
  };
}

const clientOr = (client: BindableClient | undefined): BindableClient => client ?? getSessionClient<BindableClient>();

/** Which client a store reads. */
interface ClientOption {
  /** The client; default: the one an ancestor set with `setSessionClient`. */
  client?: BindableClient | undefined;
}
/** Options of {@link useTopic}: `since`, `client`. */
export type UseTopicOptions = TopicStoreOptions & ClientOption;
/** Options of {@link useInfiniteTopic} and {@link usePaginatedTopic}: `pageSize`, `client`. */
export type UsePagedTopicOptions = PagedTopicOptions & ClientOption;

/**
 * The client's connection status as a readable store (`$status`). Background token refreshes
 * never change it.
 *
 * @param client - default: the one an ancestor set with `setSessionClient`
 * @example
 * ```svelte
 * <script>const status = useConnectionStatus();</script>
 * <span>{$status}</span>
 * ```
 */
export function useConnectionStatus(client?: BindableClient): Readable<ConnectionStatus> {
  return readable(connectionStatusStore(clientOr(client)));
}

/**
 * The running session (`undefined` when none) as a readable store.
 *
 * @param client - default: the one an ancestor set with `setSessionClient`
 * @example
 * ```svelte
 * <script>const session = useSession();</script>
 * {#if $session}<p>{$session.userId}</p>{/if}
 * ```
 */
export function useSession(client?: BindableClient): Readable<SessionInfo | undefined> {
  return readable(sessionStore(clientOr(client)));
}

/**
 * Calls `callback` with every session error until the calling component is destroyed (call
 * during component initialisation). Errors are events, not a store.
 *
 * @param client - default: the one an ancestor set with `setSessionClient`
 * @example
 * ```svelte
 * <script>useSessionError((type) => (lastError = type));</script>
 * ```
 */
export function useSessionError(callback: (type: SessionErrorType) => void, client?: BindableClient): void {
  if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
  const source = clientOr(client);
  if (onServer) return;
  onDestroy(sessionErrorEvents(source).subscribe(callback));
}

/**
 * A live topic as a readable store of `{ changes, error }`. `T` is the type of `change.data`
 * (not checked at run time).
 *
 * @example
 * ```svelte
 * <script>const room = useTopic('room:42');</script>
 * {#each $room.changes as change (change.seq)}<p>{change.data.text}</p>{/each}
 * ```
 */
export function useTopic<T = JsonValue>(topic: string, options: UseTopicOptions = {}): Readable<TopicSnapshot<T>> {
  const { since, client } = options;
  return readable(createTopicStore<T>(clientOr(client), topic, { since }));
}

/**
 * A topic read backwards, as a readable store of `{ changes, hasMore, loadMore, loading, error }`:
 * the newest `pageSize` changes (live), older pages prepended by `$feed.loadMore()`.
 *
 * @example
 * ```svelte
 * <script>const feed = useInfiniteTopic('chat', { pageSize: 20 });</script>
 * <button disabled={!$feed.hasMore} onclick={$feed.loadMore}>older</button>
 * ```
 */
export function useInfiniteTopic<T = JsonValue>(
  topic: string,
  options: UsePagedTopicOptions = {},
): Readable<InfiniteTopicSnapshot<T>> {
  const { pageSize, client } = options;
  return readable(createInfiniteTopicStore<T>(clientOr(client), topic, { pageSize }));
}

/**
 * A topic read in fixed pages, newest first, as a readable store of `{ changes, page, hasNextPage,
 * hasPreviousPage, nextPage, prevPage, loading, error }`. Page 0 stays live.
 *
 * @example
 * ```svelte
 * <script>const log = usePaginatedTopic('audit', { pageSize: 25 });</script>
 * <button disabled={!$log.hasNextPage} onclick={$log.nextPage}>older</button>
 * ```
 */
export function usePaginatedTopic<T = JsonValue>(
  topic: string,
  options: UsePagedTopicOptions = {},
): Readable<PaginatedTopicSnapshot<T>> {
  const { pageSize, client } = options;
  return readable(createPaginatedTopicStore<T>(clientOr(client), topic, { pageSize }));
}
