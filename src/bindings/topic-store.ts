import type { SessionError } from '../errors/index.js';
import { asTyped, type BindableClient, type TopicChange } from './client.js';
import { LiveTail } from './live-tail.js';
import { ExternalStore, type ReadableStore } from './store.js';
import { validateSince, validateTopic } from './validate.js';

/** Snapshot of a live topic. */
export interface TopicSnapshot<T> {
  /** Every change received, oldest first. */
  readonly changes: readonly TopicChange<T>[];
  /** Why the subscription failed (e.g. `FORBIDDEN`); no change follows until it is read again. */
  readonly error: SessionError | undefined;
}

/** Options of {@link createTopicStore}. */
export interface TopicStoreOptions {
  /** Deliver changes after this seq; default (also `undefined`): from the start of the retained log. */
  since?: number | undefined;
}

const EMPTY: TopicSnapshot<never> = Object.freeze({ changes: Object.freeze([]), error: undefined });

class TopicStore<T> extends ExternalStore<TopicSnapshot<T>> {
  readonly #tail: LiveTail;

  constructor(client: BindableClient, topic: string, since: number | undefined) {
    super(EMPTY, EMPTY);
    this.#tail = new LiveTail(client, topic, since, {
      changes: (changes) => this.set({ changes: [...this.snapshot.changes, ...asTyped<T>(changes)], error: undefined }),
      error: (error) => this.set({ changes: this.snapshot.changes, error }),
    });
  }

  protected connect(): void {
    // A failed subscription is tried again when someone reads the topic anew (e.g. after sign-in).
    if (this.snapshot.error) this.set({ changes: this.snapshot.changes, error: undefined });
    this.#tail.resume();
  }

  protected disconnect(): void {
    this.#tail.pause();
  }
}

/**
 * A live topic as a store: every change from `since` on, then live. The client subscription is
 * open only while the store has listeners; after a pause it resumes after the last change it
 * received. Nothing happens until the first `subscribe`.
 *
 * @param client - the session client
 * @param topic - topic name
 * @param options - `since`
 * @throws `TypeError` for an empty topic or a `since` that is not a non-negative integer
 * @example
 * ```ts
 * const room = createTopicStore<{ text: string }>(client, 'room:42');
 * room.subscribe(() => render(room.getSnapshot().changes.map((c) => c.data.text)));
 * ```
 */
export function createTopicStore<T>(
  client: BindableClient,
  topic: string,
  options: TopicStoreOptions = {},
): ReadableStore<TopicSnapshot<T>> {
  return new TopicStore<T>(client, validateTopic(topic), validateSince(options.since));
}
