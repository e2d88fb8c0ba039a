import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import {
  type BindableClient,
  connectionStatusStore,
  createInfiniteTopicStore,
  createPaginatedTopicStore,
  createTopicStore,
  type InfiniteTopicSnapshot,
  type PagedTopicOptions,
  type PaginatedTopicSnapshot,
  type ReadableStore,
  sessionErrorEvents,
  sessionStore,
  type TopicSnapshot,
  type TopicStoreOptions,
} from '../bindings/index.js';
import type { ConnectionStatus, JsonValue, SessionErrorType, SessionInfo } from '../page/index.js';
import { useBindableClient } from './provider.js';

/** Options of {@link useTopic}: `since`. */
export type UseTopicOptions = TopicStoreOptions;
/** Options of {@link useInfiniteTopic} and {@link usePaginatedTopic}: `pageSize`. */
export type UsePagedTopicOptions = PagedTopicOptions;

function useStore<T>(store: ReadableStore<T>): T {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getServerSnapshot);
}

/** A paged topic's store for this component, made anew when the client, topic or page size change. */
function usePagedStore<S>(
  create: (client: BindableClient, topic: string, options: PagedTopicOptions) => ReadableStore<S>,
  topic: string,
  pageSize: number | undefined,
): S {
  const client = useBindableClient();
  const store = useMemo(() => create(client, topic, { pageSize }), [create, client, topic, pageSize]);
  return useStore(store);
}

/**
 * The client's connection status. Re-renders only when it changes — background token refreshes
 * never do. Import from `shared-session/react`.
 *
 * @example
 * ```tsx
 * const status = useConnectionStatus();
 * return <span className={status === 'OPEN' ? 'online' : 'offline'}>{status}</span>;
 * ```
 */
export function useConnectionStatus(): ConnectionStatus {
  return useStore(connectionStatusStore(useBindableClient()));
}

/**
 * The running session, or `undefined` (also during server rendering). Re-renders when it starts,
 * ends, or its user, roles, expiry or tab count change, in whichever tab that happened.
 *
 * @example
 * ```tsx
 * const session = useSession();
 * return session ? <p>signed in as {session.userId}</p> : <SignIn />;
 * ```
 */
export function useSession(): SessionInfo | undefined {
  return useStore(sessionStore(useBindableClient()));
}

/**
 * Calls `callback` with every session error (`UNAUTHORIZED`, `TOKEN_EXPIRED`, `ROLES_MISMATCH`,
 * `SCHEMA_MISMATCH`) while the component is mounted. Errors are events: nothing re-renders. The
 * latest `callback` is called; it need not be memoised.
 *
 * @example
 * ```tsx
 * useSessionError((type) => { if (type === 'TOKEN_EXPIRED') navigate('/sign-in'); });
 * ```
 */
export function useSessionError(callback: (type: SessionErrorType) => void): void {
  const client = useBindableClient();
  const latest = useRef(callback);
  useEffect(() => {
    latest.current = callback;
  });
  useEffect(() => sessionErrorEvents(client).subscribe((type) => latest.current(type)), [client]);
}

/**
 * A live topic: every change from `since` on (default: the start of the retained log), then live.
 * `T` is the type of `change.data`, as the app's publishers send it (not checked at run time).
 *
 * @param topic - topic name
 * @param options - `since`
 * @returns `{ changes, error }`: changes oldest first; `error` when the subscription was refused
 * @example
 * ```tsx
 * const { changes, error } = useTopic<{ text: string }>('room:42');
 * if (error) return <p>{error.code}</p>;
 * return <ul>{changes.map((c) => <li key={c.seq}>{c.data.text}</li>)}</ul>;
 * ```
 */
export function useTopic<T = JsonValue>(topic: string, options: UseTopicOptions = {}): TopicSnapshot<T> {
  const client = useBindableClient();
  const { since } = options;
  const store = useMemo(() => createTopicStore<T>(client, topic, { since }), [client, topic, since]);
  return useStore(store);
}

/**
 * A topic read backwards: the newest `pageSize` changes (live: new changes are appended), and
 * older pages prepended by `loadMore()` through `client.history` until `hasMore` is false.
 *
 * @param topic - topic name
 * @param options - `pageSize`
 * @returns `{ changes, hasMore, loadMore, loading, error }`
 * @example
 * ```tsx
 * const { changes, hasMore, loadMore, loading } = useInfiniteTopic<Message>('chat', { pageSize: 20 });
 * return <>{hasMore && <button disabled={loading} onClick={loadMore}>older</button>}<List changes={changes} /></>;
 * ```
 */
export function useInfiniteTopic<T = JsonValue>(
  topic: string,
  options: UsePagedTopicOptions = {},
): InfiniteTopicSnapshot<T> {
  return usePagedStore(createInfiniteTopicStore<T>, topic, options.pageSize);
}

/**
 * A topic read in fixed pages, newest first: page 0 is the newest `pageSize` changes and stays
 * live; `nextPage()` goes to older changes, `prevPage()` back. An older page does not move while
 * live changes arrive.
 *
 * @param topic - topic name
 * @param options - `pageSize`
 * @returns `{ changes, page, hasNextPage, hasPreviousPage, nextPage, prevPage, loading, error }`
 * @example
 * ```tsx
 * const { changes, page, hasNextPage, hasPreviousPage, nextPage, prevPage } = usePaginatedTopic('audit', { pageSize: 25 });
 * ```
 */
export function usePaginatedTopic<T = JsonValue>(
  topic: string,
  options: UsePagedTopicOptions = {},
): PaginatedTopicSnapshot<T> {
  return usePagedStore(createPaginatedTopicStore<T>, topic, options.pageSize);
}
