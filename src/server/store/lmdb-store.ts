import { mkdir } from 'node:fs/promises';
import { utf8Length } from '../../shared/json-size.js';
import { LMDB_PEER, loadOptionalPeer } from '../optional-peer.js';
import { GROUP_COMMIT_MAX_BYTES, GROUP_COMMIT_MAX_OPS, GroupCommit, type OpOutcome } from './group-commit.js';
import { decodeChangeRecord, defineTopicStore, parseRecordHead, storedChange, type NewChange } from './preamble.js';
import { overRetention, resolveRetention, type TopicRetention } from './retention.js';
import type { AppendResult, StoredChange, TopicStore } from './topic-store.js';

/**
 * On-disk layout version, kept under `format` in the `meta` database. A store refuses to open a
 * directory written in another format rather than misread it.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * console.log(`topic store format ${LMDB_STORE_FORMAT}`);
 * ```
 */
export const LMDB_STORE_FORMAT = 1;

/**
 * Options of {@link openLmdbTopicStore}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: LmdbTopicStoreOptions = { path: './data' };
 * ```
 */
export interface LmdbTopicStoreOptions {
  /** Directory of the database; created (with its parents) when missing. */
  path: string;
  /** What each topic keeps. Default `DEFAULT_RETENTION`. */
  retention?: Partial<TopicRetention>;
}

type ChangeKey = [topic: string, seq: number];
type DedupKey = [topic: string, clientId: string];

/** One append waiting for its transaction. */
interface PendingAppend {
  topic: string;
  change: NewChange;
}

/** What a transaction needs to know of a topic's log: its last and first retained seq, and its retained bytes. */
interface TopicState {
  head: number;
  /** First retained seq; 0 while the topic has no change. */
  first: number;
  bytes: number;
}

/** What a batch's transaction reports back: its id, and the append that threw, if any. */
interface BatchRun {
  txnId: number;
  failed: { index: number; error: unknown } | undefined;
}

/**
 * Topics whose {@link TopicState} the store remembers between transactions; past it the memory is
 * dropped and rebuilt from the database (a seek per topic), so it never grows without bound.
 */
export const LMDB_CACHED_TOPICS = 10_000;

/**
 * Opens the durable, embedded {@link TopicStore}: the default store of the reference server, so
 * that topics (and the exactly-once state of publishes) survive a restart.
 *
 * Why LMDB (lmdb-js): npm 11 does not run install scripts here, which rules out addons that compile
 * at install time (better-sqlite3); `lmdb` ships prebuilt binaries as optional dependencies, is
 * well kept (Parcel and Gatsby depend on it), has ACID transactions over ordered keys — a topic's
 * log is one key range, so reading after a cursor is a seek plus a short scan whatever the log's
 * length — and its writes resolve once committed, batching concurrent writers into one commit.
 *
 * Layout: three named databases in one environment.
 * - `changes`: `[topic, seq]` → the JSON text of `{ publishedAt, clientId?, data }`. The head of a
 *   topic is the last key of its range; no separate counter can disagree with the log.
 * - `dedup`: `[topic, clientId]` → seq, written in the same transaction as the change.
 * - `sizes`: topic → UTF-8 bytes of its retained records, for retention's `maxBytes` (computed
 *   once by a scan for a topic written before this database existed).
 * - `meta`: `format` → {@link LMDB_STORE_FORMAT}.
 *
 * Retention runs in the append's transaction: while the topic passes a limit of `retention`, its
 * oldest change and that change's dedup key are removed (the newest is always kept).
 *
 * Group commit: appends wait in a {@link GroupCommit} queue, and every batch of them (all that
 * arrived while the previous transaction was being written, up to {@link GROUP_COMMIT_MAX_OPS})
 * is applied by one lmdb-js child-transaction callback inside one write transaction: the dedup
 * check, seq = head + 1, the puts and retention, append after append in the order they were
 * called, so a later append of the batch sees the earlier ones (a clientId repeated in one batch
 * is stored once). Each append's promise resolves only after its transaction committed and was
 * flushed to disk (`db.flushed`); the next batch commits while the previous one flushes.
 *
 * Failures: an append refused by its arguments never joins a batch. When applying one append
 * throws, the child transaction is aborted (nothing of the batch is written), that append rejects
 * with its error and the others of the batch go into the next transaction, in order. When the
 * commit or the flush fails, every append of the batch rejects (none is acknowledged; an append
 * retried with its clientId is deduplicated if the commit did reach the disk).
 *
 * Each topic's head, first retained seq and retained bytes are remembered between transactions,
 * and trusted only while each transaction id follows the previous one of this store (no other
 * writer, in this process or another, committed in between); else they are read again.
 *
 * Import from `shared-session/server`.
 *
 * @param options - `path`: the database directory
 * @returns the open store; call `close()` before exit to release the environment
 * @throws Error when the directory holds a store of another {@link LMDB_STORE_FORMAT}
 *
 * @example
 * ```ts
 * import { createSessionServer, openLmdbTopicStore } from 'shared-session/server';
 *
 * const store = await openLmdbTopicStore({ path: './data' });
 * const server = await createSessionServer({ port: 8787, auth: { secret }, store });
 * process.on('SIGTERM', async () => {
 *   await server.close();
 *   await store.close();
 * });
 * ```
 */
export async function openLmdbTopicStore(options: LmdbTopicStoreOptions): Promise<TopicStore> {
  if (typeof options?.path !== 'string' || options.path.length === 0)
    throw new TypeError('"path" must be a non-empty string');
  const retention = resolveRetention(options.retention);
  const { open, ABORT } = await loadOptionalPeer(LMDB_PEER, () => import('lmdb'));
  await mkdir(options.path, { recursive: true });
  // noSubdir: false — `path` is always a directory, even when its name has a dot.
  const root = open({ path: options.path, noSubdir: false });
  const meta = root.openDB<number, string>({ name: 'meta', encoding: 'json' });
  const changes = root.openDB<string, ChangeKey>({ name: 'changes', encoding: 'string' });
  const dedup = root.openDB<number, DedupKey>({ name: 'dedup', encoding: 'json' });
  const sizes = root.openDB<number, string>({ name: 'sizes', encoding: 'json' });

  const format = meta.get('format');
  if (format === undefined) {
    await meta.put('format', LMDB_STORE_FORMAT);
  } else if (format !== LMDB_STORE_FORMAT) {
    await root.close();
    throw new Error(`${options.path} holds a topic store of format ${format}, expected ${LMDB_STORE_FORMAT}`);
  }

  /** Last seq of `topic`: a reverse seek to the end of its key range. */
  const lastSeq = (topic: string): number => {
    for (const [, seq] of changes.getKeys({ start: [topic, Infinity], end: [topic, 0], reverse: true, limit: 1 }))
      return seq;
    return 0;
  };

  /** First retained seq of `topic` (0 when it has none). */
  const firstSeq = (topic: string): number => {
    for (const [, seq] of changes.getKeys({ start: [topic, 0], end: [topic, Infinity], limit: 1 })) return seq;
    return 0;
  };

  /** Bytes of the retained records of `topic`: kept in `sizes`, counted once for an older store. */
  const storedBytes = (topic: string): number => {
    const known = sizes.get(topic);
    if (known !== undefined) return known;
    let bytes = 0;
    for (const { value } of changes.getRange({ start: [topic, 0], end: [topic, Infinity] })) bytes += utf8Length(value);
    return bytes;
  };

  /** The state of `topic` as the database holds it (inside a transaction: it sees the batch's writes). */
  const loadState = (topic: string): TopicState => ({
    head: lastSeq(topic),
    first: firstSeq(topic),
    bytes: storedBytes(topic),
  });

  /** Drops the oldest changes of `topic` while it passes a retention limit (inside a transaction). */
  const trim = (topic: string, state: TopicState, now: number): void => {
    while (state.first > 0 && state.first < state.head) {
      const log = {
        count: state.head - state.first + 1,
        bytes: state.bytes,
        oldestPublishedAt: now,
        newestPublishedAt: now,
      };
      let oldest: string | undefined;
      // The oldest record is read only when its age can decide (or it must go).
      if (!overRetention(retention, log)) {
        if (!Number.isFinite(retention.maxAgeMs)) return;
        oldest = changes.get([topic, state.first]);
        if (oldest === undefined) return;
        log.oldestPublishedAt = parseRecordHead(oldest).publishedAt;
        if (!overRetention(retention, log)) return;
      }
      oldest ??= changes.get([topic, state.first]);
      if (oldest === undefined) return;
      const { clientId } = parseRecordHead(oldest);
      changes.remove([topic, state.first]);
      state.bytes -= utf8Length(oldest);
      if (clientId !== undefined && dedup.get([topic, clientId]) === state.first) dedup.remove([topic, clientId]);
      state.first++;
    }
  };

  const cache = new Map<string, TopicState>();
  /** Id of the last transaction this store committed; -1 when the cache must not be trusted. */
  let lastTxnId = -1;

  /** Applies one append inside the batch's transaction. */
  const applyAppend = ({ topic, change }: PendingAppend, touched: Map<string, TopicState>): AppendResult => {
    const { clientId } = change;
    let state = touched.get(topic) ?? cache.get(topic);
    if (state === undefined) {
      if (cache.size >= LMDB_CACHED_TOPICS) cache.clear();
      cache.set(topic, (state = loadState(topic)));
    }
    touched.set(topic, state);
    const seq = state.head + 1;
    // The dedup check and its write in one call: a put that does not overwrite. Inside a
    // transaction lmdb-js's putSync returns whether it wrote (its .d.ts says void); anything but
    // `true` is checked with a read, so the answer is right either way.
    const inserted: unknown =
      clientId === undefined ? true : dedup.putSync([topic, clientId], seq, { noOverwrite: true });
    if (clientId !== undefined && inserted !== true) {
      const seen = dedup.get([topic, clientId]);
      const original = seen === undefined ? undefined : changes.get([topic, seen]);
      if (seen !== undefined && original !== undefined)
        return { change: decodeChangeRecord(topic, seen, original), duplicate: true };
      dedup.putSync([topic, clientId], seq); // a key whose change is gone: taken over
    }
    // Inside a transaction a put is applied at once; its promise settles with the transaction.
    void changes.put([topic, seq], change.record);
    state.head = seq;
    if (state.first === 0) state.first = seq;
    state.bytes += change.bytes;
    trim(topic, state, change.publishedAt);
    return { change: storedChange(topic, seq, change), duplicate: false };
  };

  /**
   * Applies a batch inside its transaction: every append in order, then each touched topic's
   * retained bytes once. Returns ABORT (rolling the transaction back) when an append throws.
   */
  const applyBatch = (batch: readonly PendingAppend[], run: BatchRun): AppendResult[] | typeof ABORT => {
    run.txnId = root.getWriteTxnId();
    // Every batch writes (each append touches its topic's size), so consecutive batches of this
    // store have consecutive ids: a gap means someone else wrote, and the cache is stale.
    if (run.txnId !== lastTxnId + 1) cache.clear();
    const touched = new Map<string, TopicState>();
    const results: AppendResult[] = [];
    for (let index = 0; index < batch.length; index++) {
      try {
        results.push(applyAppend(batch[index] as PendingAppend, touched));
      } catch (error) {
        run.failed = { index, error };
        return ABORT;
      }
    }
    for (const [topic, state] of touched) void sizes.put(topic, state.bytes);
    return results;
  };

  /** Writes one batch in one transaction; see the group commit notes above. */
  const writeBatch = async (batch: readonly PendingAppend[]): Promise<OpOutcome<AppendResult>[]> => {
    const run: BatchRun = { txnId: -1, failed: undefined };
    let result: AppendResult[] | typeof ABORT;
    try {
      // An async child transaction: lmdb-js runs it on its writer thread's next transaction, so
      // the commit and the flush never block the event loop (a slow disk stalls no socket).
      result = await root.childTransaction(() => applyBatch(batch, run));
    } catch (error) {
      lastTxnId = -1;
      cache.clear();
      throw error;
    }
    if (!Array.isArray(result)) {
      // ABORT: the transaction was rolled back.
      lastTxnId = -1;
      cache.clear();
      const { failed } = run;
      return batch.map((_, i) => (i === failed?.index ? { ok: false, error: failed.error } : 'retry'));
    }
    lastTxnId = run.txnId;
    return result.map((value: AppendResult) => ({ ok: true, value }));
  };

  const appends = new GroupCommit<PendingAppend, AppendResult>(
    { write: writeBatch, durable: async () => void (await root.flushed) },
    { maxOps: GROUP_COMMIT_MAX_OPS, maxBytes: GROUP_COMMIT_MAX_BYTES, size: ({ change }) => change.bytes },
  );

  /** Changes of a range, stopping once `maxBytes` of records were read (record length as the measure). */
  const collect = (
    topic: string,
    range: Iterable<{ key: ChangeKey; value: string }>,
    maxBytes: number,
  ): StoredChange[] => {
    const out: StoredChange[] = [];
    let bytes = 0;
    for (const { key, value } of range) {
      out.push(decodeChangeRecord(topic, key[1], value));
      bytes += value.length;
      if (bytes >= maxBytes) break;
    }
    return out;
  };

  return defineTopicStore({
    append(topic, change) {
      // The record is JSON text composed around the data's JSON (by the preamble), so nothing
      // about the change itself can throw inside the transaction.
      return appends.submit({ topic, change });
    },

    async read(topic, after, limit, maxBytes) {
      return collect(topic, changes.getRange({ start: [topic, after + 1], end: [topic, Infinity], limit }), maxBytes);
    },

    async readBefore(topic, before, limit, maxBytes) {
      const range = changes.getRange({ start: [topic, before - 1], end: [topic, 0], reverse: true, limit });
      return collect(topic, range, maxBytes).reverse();
    },

    async head(topic) {
      return lastSeq(topic);
    },

    async ping() {
      // A read through the environment: throws once it is closed or unusable.
      meta.get('format');
    },

    async close() {
      // The preamble refuses new appends once closing: the queued ones are written and flushed.
      await appends.drain();
      await root.flushed;
      await root.close();
    },
  });
}
