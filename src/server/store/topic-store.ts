import type { JsonValue } from '../../protocol/messages.js';

/**
 * One change of a topic as a {@link TopicStore} keeps it: the fields of the wire's `change` message.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const change: StoredChange = { topic: 'chat', seq: 1, data: { text: 'hi' }, publishedAt: Date.now() };
 * ```
 */
export interface StoredChange {
  topic: string;
  /** Per-topic sequence number, starting at 1, without gaps. */
  seq: number;
  data: JsonValue;
  /** Epoch milliseconds (server clock) when the change was stored. */
  publishedAt: number;
  /** The publisher's `clientId`, when it gave one. */
  clientId?: string;
}

/**
 * Outcome of {@link TopicStore.append}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { change, duplicate } = await store.append('chat', { text: 'hi' }, { clientId });
 * send({ type: 'published', id, topic: change.topic, seq: change.seq, duplicate });
 * ```
 */
export interface AppendResult {
  /** The stored change: the new one, or the original one when `duplicate`. */
  change: StoredChange;
  /** Whether `clientId` had already been appended to this topic, so nothing was stored. */
  duplicate: boolean;
}

/**
 * Options of {@link TopicStore.append}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * await store.append('chat', data, { clientId: crypto.randomUUID(), publishedAt: Date.now() });
 * ```
 */
export interface AppendOptions {
  /** Idempotency key: a second append of the same `clientId` to the same topic stores nothing. A non-empty string. */
  clientId?: string;
  /** Epoch milliseconds to record. Default `Date.now()` at the call. A finite number. */
  publishedAt?: number;
}

/**
 * Options of {@link TopicStore.read} and {@link TopicStore.readBefore}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const batch = await store.read('chat', cursor, 500, { maxBytes: 1024 * 1024 });
 * ```
 */
export interface ReadOptions {
  /**
   * Stop once the changes read hold at least this many bytes of stored record (the data's JSON plus
   * a small envelope); at least one change is returned whatever its size. Default: no byte limit.
   */
  maxBytes?: number;
}

/**
 * The topic logs of the server (spec §6): one append-only log per topic, each change numbered by a
 * per-topic sequence that starts at 1 and has no gaps, deduplicated by the publisher's `clientId`
 * so that a publish retried after any number of reconnects is stored exactly once (spec §5).
 *
 * Implementations: {@link createMemoryTopicStore} (tests, single process, lost on exit) and
 * {@link openLmdbTopicStore} (durable, embedded). Every implementation passes the same conformance
 * suite (`test/unit/store/conformance.ts`).
 *
 * Invalid arguments reject with a `TypeError` (a too long topic or clientId with a `RangeError`);
 * after {@link TopicStore.close} every other method rejects.
 *
 * Retention: each store keeps at most its `retention` (changes, bytes, age; the defaults of
 * `DEFAULT_RETENTION`) per topic, dropping the oldest changes inside the append that passed a
 * limit; the newest change is always kept, so `head` never goes back. A clientId is remembered as
 * long as its change is retained: exactly-once holds within the retained log.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * import { openLmdbTopicStore } from 'shared-session/server';
 *
 * const store = await openLmdbTopicStore({ path: './data' });
 * const { change } = await store.append('chat', { text: 'hi' }, { clientId: 'c-1' });
 * const missed = await store.read('chat', cursor, 100);
 * await store.close();
 * ```
 */
export interface TopicStore {
  /**
   * Appends `data` to `topic` with seq = head + 1. When `options.clientId` was already appended to
   * this topic, stores nothing and resolves to the original change with `duplicate: true`.
   * Concurrent appends to one topic are serialised; a durable store has committed the change to
   * disk when the promise resolves.
   *
   * @param topic - non-empty topic name
   * @param data - any JSON value; it is stored as JSON (`undefined` members dropped, like on the wire)
   * @param options - `clientId` for exactly-once retries, `publishedAt` to override the time
   */
  append(topic: string, data: JsonValue, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Reads the retained changes with seq > `after`, ascending, at most `limit` of them (and at most
   * about `options.maxBytes`). When retention dropped changes after `after`, the first change
   * returned has a seq above `after + 1`: the caller sees the gap, never a silent one.
   *
   * @param topic - non-empty topic name
   * @param after - a non-negative integer cursor: 0 reads from the start
   * @param limit - a non-negative integer
   * @param options - a byte limit
   */
  read(topic: string, after: number, limit: number, options?: ReadOptions): Promise<StoredChange[]>;
  /**
   * Reads the newest retained changes with seq < `before`, at most `limit` of them (and at most
   * about `options.maxBytes`, keeping the newest), returned in ascending order: one page of history.
   *
   * @param topic - non-empty topic name
   * @param before - a positive integer: only changes with seq < before
   * @param limit - a non-negative integer
   * @param options - a byte limit
   */
  readBefore(topic: string, before: number, limit: number, options?: ReadOptions): Promise<StoredChange[]>;
  /**
   * The last seq of the topic, 0 when it has no changes.
   *
   * @param topic - non-empty topic name
   */
  head(topic: string): Promise<number>;
  /**
   * A cheap probe for health checks: resolves when the store can serve, rejects when it cannot
   * (closed, or its database unreachable). Optional for stores of your own (a server whose store
   * has none reports its readiness as `unknown`); every store of this package has it.
   */
  ping?(): Promise<void>;
  /** Waits for pending appends, flushes and releases resources. Idempotent. */
  close(): Promise<void>;
}
