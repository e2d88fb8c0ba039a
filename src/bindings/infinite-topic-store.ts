import type { TopicChange as ClientTopicChange } from '../page/index.js';
import { asTyped, type BindableClient, type HistoryPage, type TopicChange } from './client.js';
import { type PagedSnapshot, PagedTopicStore } from './paged-topic-store.js';
import type { ReadableStore } from './store.js';
import { validatePageSize, validateTopic } from './validate.js';

/** Snapshot of an infinite topic. */
export interface InfiniteTopicSnapshot<T> extends PagedSnapshot {
  /** The pages loaded so far and every live change after them, oldest first. */
  readonly changes: readonly TopicChange<T>[];
  /** Older changes exist before `changes[0]`: `loadMore` fetches them. */
  readonly hasMore: boolean;
  /**
   * Prepends the `pageSize` changes before `changes[0]` (through `client.history`). One request at
   * a time; resolves when it landed, never rejects (a failure lands in `error`).
   */
  readonly loadMore: () => Promise<void>;
}

/** Options of {@link createInfiniteTopicStore}. */
export interface PagedTopicOptions {
  /** Changes per page (default, also for `undefined`: `DEFAULT_PAGE_SIZE`, 50; the server caps a page). */
  pageSize?: number | undefined;
}

class InfiniteTopicStore<T> extends PagedTopicStore<InfiniteTopicSnapshot<T>> {
  constructor(client: BindableClient, topic: string, pageSize: number) {
    // The snapshot carries `loadMore`, so the server snapshot (made by super) needs it already.
    let store: InfiniteTopicStore<T> | undefined;
    const loadMore = (): Promise<void> => (store ? store.#loadMore() : Promise.resolve());
    super(client, topic, pageSize, { changes: [], hasMore: false, loading: true, error: undefined, loadMore });
    store = this;
  }

  protected receiveNewest(page: HistoryPage): void {
    this.patch({ changes: asTyped<T>(page.changes), hasMore: page.hasMore });
  }

  protected receiveLive(changes: ClientTopicChange[]): void {
    this.patch({ changes: [...this.snapshot.changes, ...asTyped<T>(changes)] });
  }

  #loadMore(): Promise<void> {
    const oldest = this.snapshot.changes[0];
    if (!this.loaded || !this.snapshot.hasMore || !oldest) return Promise.resolve();
    return this.fetchOlder(oldest.seq, (page) =>
      this.patch({ changes: [...asTyped<T>(page.changes), ...this.snapshot.changes], hasMore: page.hasMore }),
    );
  }
}

/**
 * A topic read backwards in pages: the newest `pageSize` changes (through `client.history`), live
 * changes appended as they arrive, and older pages prepended on `loadMore()` until `hasMore` is
 * false. The live subscription is open only while the store has listeners; nothing happens until
 * the first `subscribe`.
 *
 * @param client - the session client
 * @param topic - topic name
 * @param options - `pageSize`
 * @throws `TypeError` for an empty topic or a `pageSize` that is not a positive integer
 * @example
 * ```ts
 * const feed = createInfiniteTopicStore<{ text: string }>(client, 'chat', { pageSize: 20 });
 * feed.subscribe(() => render(feed.getSnapshot().changes));
 * await feed.getSnapshot().loadMore();
 * ```
 */
export function createInfiniteTopicStore<T>(
  client: BindableClient,
  topic: string,
  options: PagedTopicOptions = {},
): ReadableStore<InfiniteTopicSnapshot<T>> {
  return new InfiniteTopicStore<T>(client, validateTopic(topic), validatePageSize(options.pageSize));
}
