import {
  computed,
  getCurrentScope,
  type MaybeRefOrGetter,
  onScopeDispose,
  type Ref,
  shallowRef,
  type ShallowRef,
  toValue,
  watch,
} from 'vue';
import {
  connectionStatusStore,
  createInfiniteTopicStore,
  createPaginatedTopicStore,
  createTopicStore,
  type PagedTopicOptions,
  type ReadableStore,
  sessionErrorEvents,
  sessionStore,
  type TopicChange,
  type TopicStoreOptions,
} from '../bindings/index.js';
import type { SessionError } from '../errors/index.js';
import type { ConnectionStatus, JsonValue, SessionErrorType, SessionInfo } from '../page/index.js';
import { injectClient } from './client.js';

/** Server rendering: no `window`. Composables then hold the server snapshot and never subscribe. */
const onServer = typeof window === 'undefined';

/**
 * A ref that follows the snapshot of the store `source` computes, subscribed while the calling
 * scope lives; a new store (e.g. another topic) replaces the old one and its subscription.
 */
function useSnapshot<T>(source: () => ReadableStore<T>): Readonly<ShallowRef<T>> {
  const store = computed(source);
  const snapshot = shallowRef(onServer ? store.value.getServerSnapshot() : store.value.getSnapshot());
  if (onServer) return snapshot;
  watch(
    store,
    (current, _previous, onCleanup) => {
      snapshot.value = current.getSnapshot();
      onCleanup(current.subscribe(() => (snapshot.value = current.getSnapshot())));
    },
    { immediate: true },
  );
  return snapshot;
}

/** Options of {@link useTopic}: `since`. */
export type UseTopicOptions = TopicStoreOptions;
/** Options of {@link useInfiniteTopic} and {@link usePaginatedTopic}: `pageSize`. */
export type UsePagedTopicOptions = PagedTopicOptions;

/** What {@link useTopic} returns. */
export interface TopicRefs<T> {
  changes: Readonly<Ref<readonly TopicChange<T>[]>>;
  error: Readonly<Ref<SessionError | undefined>>;
}

/** What {@link useInfiniteTopic} returns. */
export interface InfiniteTopicRefs<T> {
  changes: Readonly<Ref<readonly TopicChange<T>[]>>;
  hasMore: Readonly<Ref<boolean>>;
  loading: Readonly<Ref<boolean>>;
  error: Readonly<Ref<SessionError | undefined>>;
  /** Prepends the page before the oldest change; never rejects (a failure lands in `error`). */
  loadMore: () => Promise<void>;
}

/** What {@link usePaginatedTopic} returns. */
export interface PaginatedTopicRefs<T> {
  changes: Readonly<Ref<readonly TopicChange<T>[]>>;
  page: Readonly<Ref<number>>;
  hasNextPage: Readonly<Ref<boolean>>;
  hasPreviousPage: Readonly<Ref<boolean>>;
  loading: Readonly<Ref<boolean>>;
  error: Readonly<Ref<SessionError | undefined>>;
  /** Goes to the next older page once loaded; never rejects. */
  nextPage: () => Promise<void>;
  /** Goes back to the next newer page. */
  prevPage: () => Promise<void>;
}

/**
 * The client's connection status as a ref. Background token refreshes never change it.
 *
 * @example
 * ```ts
 * const status = useConnectionStatus(); // template: {{ status }}
 * ```
 */
export function useConnectionStatus(): Readonly<Ref<ConnectionStatus>> {
  const client = injectClient();
  return useSnapshot(() => connectionStatusStore(client));
}

/**
 * The running session (`undefined` when none) as a ref.
 *
 * @example
 * ```ts
 * const session = useSession(); // template: <p v-if="session">{{ session.userId }}</p>
 * ```
 */
export function useSession(): Readonly<Ref<SessionInfo | undefined>> {
  const client = injectClient();
  return useSnapshot(() => sessionStore(client));
}

/**
 * Calls `callback` with every session error while the calling component (or effect scope) lives.
 *
 * @example
 * ```ts
 * useSessionError((type) => type === 'TOKEN_EXPIRED' && router.push('/sign-in'));
 * ```
 */
export function useSessionError(callback: (type: SessionErrorType) => void): void {
  if (typeof callback !== 'function') throw new TypeError('"callback" must be a function');
  const client = injectClient();
  if (onServer) return;
  const off = sessionErrorEvents(client).subscribe(callback);
  if (getCurrentScope()) onScopeDispose(off);
}

/**
 * A live topic: every change from `since` on, then live. `topic` may be a ref or getter: a new
 * topic replaces the subscription. `T` is the type of `change.data` (not checked at run time).
 *
 * @example
 * ```ts
 * const { changes, error } = useTopic<{ text: string }>('room:42');
 * ```
 */
export function useTopic<T = JsonValue>(topic: MaybeRefOrGetter<string>, options: UseTopicOptions = {}): TopicRefs<T> {
  const client = injectClient();
  const { since } = options;
  const snapshot = useSnapshot(() => createTopicStore<T>(client, toValue(topic), { since }));
  return { changes: computed(() => snapshot.value.changes), error: computed(() => snapshot.value.error) };
}

/**
 * A topic read backwards: the newest `pageSize` changes (live), older pages prepended by
 * `loadMore()` until `hasMore` is false.
 *
 * @example
 * ```ts
 * const { changes, hasMore, loadMore } = useInfiniteTopic<Message>('chat', { pageSize: 20 });
 * ```
 */
export function useInfiniteTopic<T = JsonValue>(
  topic: MaybeRefOrGetter<string>,
  options: UsePagedTopicOptions = {},
): InfiniteTopicRefs<T> {
  const client = injectClient();
  const { pageSize } = options;
  const snapshot = useSnapshot(() => createInfiniteTopicStore<T>(client, toValue(topic), { pageSize }));
  return {
    changes: computed(() => snapshot.value.changes),
    hasMore: computed(() => snapshot.value.hasMore),
    loading: computed(() => snapshot.value.loading),
    error: computed(() => snapshot.value.error),
    loadMore: () => snapshot.value.loadMore(),
  };
}

/**
 * A topic read in fixed pages, newest first: page 0 is the newest `pageSize` changes and stays
 * live; `nextPage()` goes to older changes, `prevPage()` back.
 *
 * @example
 * ```ts
 * const { changes, page, hasNextPage, nextPage, prevPage } = usePaginatedTopic('audit', { pageSize: 25 });
 * ```
 */
export function usePaginatedTopic<T = JsonValue>(
  topic: MaybeRefOrGetter<string>,
  options: UsePagedTopicOptions = {},
): PaginatedTopicRefs<T> {
  const client = injectClient();
  const { pageSize } = options;
  const snapshot = useSnapshot(() => createPaginatedTopicStore<T>(client, toValue(topic), { pageSize }));
  return {
    changes: computed(() => snapshot.value.changes),
    page: computed(() => snapshot.value.page),
    hasNextPage: computed(() => snapshot.value.hasNextPage),
    hasPreviousPage: computed(() => snapshot.value.hasPreviousPage),
    loading: computed(() => snapshot.value.loading),
    error: computed(() => snapshot.value.error),
    nextPage: () => snapshot.value.nextPage(),
    prevPage: () => snapshot.value.prevPage(),
  };
}
