import type { StoredChange } from '../store/topic-store.js';

/**
 * Receives the changes of one topic from a {@link ChangeFeed}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const listener: ChangeListener = (change) => console.log(change.topic, change.seq);
 * ```
 */
export type ChangeListener = (change: StoredChange) => void;

/**
 * How the server learns about stored changes to fan out. Publishes (from clients and from
 * `server.publish`) are appended to the store, then announced here; every shared subscription of
 * a topic listens here. The default, {@link createLocalChangeFeed}, connects the two in-process.
 * A feed shared by several server processes (e.g. Redis pub/sub next to a Redis store) also
 * delivers the changes other processes appended.
 *
 * Listeners tolerate what a network feed does: a change announced twice, late, or out of order is
 * fine (each topic group keeps its own cursor, skips what it already sent and reads a gap back
 * from the store); a lost announcement is recovered with the next one of that topic.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const feed = createLocalChangeFeed();
 * const stop = feed.listen('chat', (change) => console.log(change.seq));
 * feed.announce({ topic: 'chat', seq: 1, data: 'hi', publishedAt: Date.now() });
 * stop();
 * ```
 */
export interface ChangeFeed {
  /** Announces a change this process has just appended to the store (never a duplicate). */
  announce(change: StoredChange): void;
  /**
   * Listens to the changes of one topic.
   *
   * @returns a function that stops listening
   */
  listen(topic: string, listener: ChangeListener): () => void;
  /** Releases the feed's resources (connections of a network feed). */
  close(): Promise<void>;
}

/**
 * The in-process {@link ChangeFeed}: `announce` calls the topic's listeners synchronously, in the
 * order they started listening. A listener that throws does not stop the others.
 *
 * Import from `shared-session/server`.
 *
 * @param onListenerError - receives what a listener throws (default: `console.error`)
 * @returns a feed for one server process
 * @example
 * ```ts
 * import { createLocalChangeFeed, createSessionServer } from 'shared-session/server';
 *
 * const server = await createSessionServer({ auth: { secret }, changeFeed: createLocalChangeFeed() });
 * ```
 */
export function createLocalChangeFeed(
  onListenerError: (error: unknown) => void = (error) => console.error('change listener failed:', error),
): ChangeFeed {
  const listeners = new Map<string, Set<ChangeListener>>();
  return {
    announce(change) {
      const set = listeners.get(change.topic);
      if (set === undefined) return;
      for (const listener of set) {
        try {
          listener(change);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    listen(topic, listener) {
      let set = listeners.get(topic);
      if (set === undefined) listeners.set(topic, (set = new Set()));
      // A wrapper, so that one listener function may listen twice and stop each independently.
      const entry: ChangeListener = (change) => listener(change);
      set.add(entry);
      return () => {
        set.delete(entry);
        if (set.size === 0 && listeners.get(topic) === set) listeners.delete(topic);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
