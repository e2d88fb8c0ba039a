import type { SessionError } from '../errors/index.js';
import type { TopicChange } from '../page/index.js';
import { type BindableClient, type HistoryOptions, type HistoryPage, toSessionError } from './client.js';
import { LiveTail } from './live-tail.js';
import { ExternalStore } from './store.js';

/** What every paged snapshot carries. */
export interface PagedSnapshot {
  /** A `history` request is in flight (the newest page, or an older one). */
  readonly loading: boolean;
  /** The last failure (a refused `history` or subscription); cleared when the topic is read anew. */
  readonly error: SessionError | undefined;
}

/**
 * Base of the infinite and paginated topics: the newest page from `history`, the live tail after
 * it, and one `history` request for older changes at a time. The newest page is asked for on the
 * first `subscribe` (once, however often listeners come and go while it is in flight); the live
 * subscription is open only while there are listeners.
 */
export abstract class PagedTopicStore<S extends PagedSnapshot> extends ExternalStore<S> {
  protected readonly pageSize: number;
  readonly #client: BindableClient;
  readonly #topic: string;
  readonly #tail: LiveTail;
  #newest: 'unasked' | 'asked' | 'loaded' = 'unasked';
  #older: Promise<void> | undefined;
  #stopSessionWatch: (() => void) | undefined;

  /**
   * @param client - the session client
   * @param topic - topic name
   * @param pageSize - changes per `history` request
   * @param initial - snapshot before the first page (also the server snapshot)
   */
  protected constructor(client: BindableClient, topic: string, pageSize: number, initial: S) {
    super(initial, initial);
    this.#client = client;
    this.#topic = topic;
    this.pageSize = pageSize;
    this.#tail = new LiveTail(client, topic, undefined, {
      changes: (changes) => this.receiveLive(changes),
      error: (error) => this.#status({ error }),
    });
  }

  /** The newest page has arrived (live changes follow it). */
  protected get loaded(): boolean {
    return this.#newest === 'loaded';
  }

  /** The newest `pageSize` changes arrived; live changes after them follow. */
  protected abstract receiveNewest(page: HistoryPage): void;
  /** Live changes after everything received so far. */
  protected abstract receiveLive(changes: TopicChange[]): void;

  /** Replaces some fields of the snapshot (no new snapshot when they hold these values already). */
  protected patch(fields: Partial<S>): void {
    const current = this.snapshot;
    const changed = (Object.keys(fields) as (keyof S)[]).some((key) => !Object.is(fields[key], current[key]));
    if (changed) this.set({ ...current, ...fields });
  }

  /** Replaces `loading` and/or `error`. */
  #status(fields: Partial<PagedSnapshot>): void {
    this.patch(fields as Partial<S>);
  }

  protected connect(): void {
    // A failure is tried again when the topic is read anew, and when a session starts (a page
    // that mounted before signing in asked while no session ran: NO_ACTIVE_SESSION).
    if (this.snapshot.error) this.#status({ error: undefined });
    if (this.#newest === 'loaded') this.#tail.resume();
    else if (this.#newest === 'unasked') this.#loadNewest();
    this.#stopSessionWatch ??= this.#client.onSessionChange((session) => {
      if (session && this.#newest === 'unasked') this.#loadNewest();
    });
  }

  protected disconnect(): void {
    this.#tail.pause();
    this.#stopSessionWatch?.();
    this.#stopSessionWatch = undefined;
  }

  /** `client.history`, with a synchronous throw (e.g. a client without `history`) as a rejection. */
  #history(options: HistoryOptions): Promise<HistoryPage> {
    try {
      return this.#client.history(this.#topic, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #loadNewest(): void {
    this.#newest = 'asked';
    this.#status({ loading: true });
    this.#history({ limit: this.pageSize }).then(
      (page) => {
        this.#newest = 'loaded';
        this.#tail.startAfter(page.changes.at(-1)?.seq ?? 0);
        this.receiveNewest(page);
        this.#status({ loading: this.#older !== undefined });
        if (this.active) this.#tail.resume();
      },
      (error: unknown) => {
        this.#newest = 'unasked';
        this.#status({ loading: false, error: toSessionError(error) });
      },
    );
  }

  /**
   * Asks for the `pageSize` changes before `before`; one request at a time (a second call while
   * one is in flight gets the same promise). Never rejects: a failure lands in `error`.
   */
  protected fetchOlder(before: number, apply: (page: HistoryPage) => void): Promise<void> {
    if (this.#older) return this.#older;
    this.#status({ loading: true });
    const request = this.#history({ before, limit: this.pageSize }).then(
      (page) => {
        this.#older = undefined;
        // Defensive: a page must hold only changes before `before`, in order.
        apply({ changes: page.changes.filter((change) => change.seq < before), hasMore: page.hasMore });
        this.#status({ loading: this.#newest === 'asked' });
      },
      (error: unknown) => {
        this.#older = undefined;
        this.#status({ loading: this.#newest === 'asked', error: toSessionError(error) });
      },
    );
    this.#older = request;
    return request;
  }
}
