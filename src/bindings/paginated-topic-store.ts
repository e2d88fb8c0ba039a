import type { TopicChange as ClientTopicChange } from '../page/index.js';
import { asTyped, type BindableClient, type HistoryPage, type TopicChange } from './client.js';
import type { PagedTopicOptions } from './infinite-topic-store.js';
import { type PagedSnapshot, PagedTopicStore } from './paged-topic-store.js';
import type { ReadableStore } from './store.js';
import { validatePageSize, validateTopic } from './validate.js';

/** Snapshot of a paginated topic. */
export interface PaginatedTopicSnapshot<T> extends PagedSnapshot {
  /** The changes of the current page, oldest first. */
  readonly changes: readonly TopicChange<T>[];
  /** 0 is the newest page, which stays live; 1 the page before it, and so on. */
  readonly page: number;
  /** An older page exists (`nextPage` goes there). */
  readonly hasNextPage: boolean;
  /** A newer page exists (`prevPage` goes there): `page > 0`. */
  readonly hasPreviousPage: boolean;
  /** Goes to the next older page once it has loaded; never rejects (a failure lands in `error`). */
  readonly nextPage: () => Promise<void>;
  /** Goes back to the next newer page (already loaded, so at once). */
  readonly prevPage: () => Promise<void>;
}

/** An older page, fixed once loaded: the `pageSize` changes before `before`. */
interface OlderPage {
  before: number;
  changes: ClientTopicChange[];
  hasMore: boolean;
}

class PaginatedTopicStore<T> extends PagedTopicStore<PaginatedTopicSnapshot<T>> {
  /** The newest `pageSize` changes, kept live. */
  #newest: ClientTopicChange[] = [];
  /** Older changes exist before `#newest[0]`. */
  #newestHasMore = false;
  /** `#older[k - 1]` is page k; pages deeper than the current one are kept for going back and forth. */
  readonly #older: OlderPage[] = [];
  #page = 0;

  constructor(client: BindableClient, topic: string, pageSize: number) {
    // The snapshot carries the navigation functions, so the server snapshot (made by super) needs them.
    let store: PaginatedTopicStore<T> | undefined;
    const nextPage = (): Promise<void> => (store ? store.#nextPage() : Promise.resolve());
    const prevPage = (): Promise<void> => (store ? store.#prevPage() : Promise.resolve());
    super(client, topic, pageSize, {
      changes: [],
      page: 0,
      hasNextPage: false,
      hasPreviousPage: false,
      loading: true,
      error: undefined,
      nextPage,
      prevPage,
    });
    store = this;
  }

  protected receiveNewest(page: HistoryPage): void {
    this.#newest = page.changes.slice(-this.pageSize);
    this.#newestHasMore = page.hasMore || page.changes.length > this.pageSize;
    this.#render();
  }

  protected receiveLive(changes: ClientTopicChange[]): void {
    const newest = [...this.#newest, ...changes];
    if (newest.length > this.pageSize) {
      newest.splice(0, newest.length - this.pageSize);
      this.#newestHasMore = true;
    }
    this.#newest = newest;
    // An older page is fixed: what arrives live changes only the newest page.
    if (this.#page === 0) this.#render();
  }

  #current(): { changes: ClientTopicChange[]; hasMore: boolean } {
    const older = this.#older[this.#page - 1];
    return older ?? { changes: this.#newest, hasMore: this.#newestHasMore };
  }

  #render(): void {
    const { changes, hasMore } = this.#current();
    this.patch({
      changes: asTyped<T>(changes),
      page: this.#page,
      hasNextPage: hasMore,
      hasPreviousPage: this.#page > 0,
    });
  }

  #nextPage(): Promise<void> {
    const from = this.#page;
    const current = this.#current();
    const oldest = current.changes[0];
    if (!this.loaded || !current.hasMore || !oldest) return Promise.resolve();
    // A page loaded before is reused while it still starts right before the current one (the
    // newest page moves as live changes arrive; older pages do not).
    if (this.#older[from]?.before === oldest.seq) {
      this.#page = from + 1;
      this.#render();
      return Promise.resolve();
    }
    return this.fetchOlder(oldest.seq, (page) => {
      if (this.#page !== from) return; // the reader moved on while it loaded
      if (page.changes.length === 0) {
        // Nothing older after all (e.g. trimmed by retention): stay, and say so.
        const older = this.#older[from - 1];
        if (older) older.hasMore = false;
        else this.#newestHasMore = false;
      } else {
        this.#older.length = from;
        this.#older.push({ before: oldest.seq, changes: page.changes, hasMore: page.hasMore });
        this.#page = from + 1;
      }
      this.#render();
    });
  }

  #prevPage(): Promise<void> {
    if (this.#page > 0) {
      this.#page--;
      this.#render();
    }
    return Promise.resolve();
  }
}

/**
 * A topic read in fixed pages, newest first: page 0 is the newest `pageSize` changes and stays
 * live; `nextPage()` loads the page before the current one through `client.history`, `prevPage()`
 * goes back. An older page does not move while live changes arrive. The live subscription is open
 * only while the store has listeners; nothing happens until the first `subscribe`.
 *
 * @param client - the session client
 * @param topic - topic name
 * @param options - `pageSize`
 * @throws `TypeError` for an empty topic or a `pageSize` that is not a positive integer
 * @example
 * ```ts
 * const log = createPaginatedTopicStore(client, 'audit', { pageSize: 25 });
 * log.subscribe(() => render(log.getSnapshot()));
 * await log.getSnapshot().nextPage();
 * ```
 */
export function createPaginatedTopicStore<T>(
  client: BindableClient,
  topic: string,
  options: PagedTopicOptions = {},
): ReadableStore<PaginatedTopicSnapshot<T>> {
  return new PaginatedTopicStore<T>(client, validateTopic(topic), validatePageSize(options.pageSize));
}
