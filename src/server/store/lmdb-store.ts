import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { utf8Length } from '../../shared/json-size.js';
import { LMDB_PEER, loadOptionalPeer } from '../optional-peer.js';
import { ClientIdIndex, decodeRun, encodeRun, hashClientId, runOfTail } from './clientid-runs.js';
import { ClientIdSeqs } from './client-id-seqs.js';
import { DEDUP_INDEX_BUDGET, DEDUP_TAIL_BUDGET, DEDUP_TAIL_FLUSH_AT } from './dedup-tail.js';
import { GROUP_COMMIT_MAX_BYTES, GROUP_COMMIT_MAX_OPS, GroupCommit, type OpOutcome } from './group-commit.js';
import { decodeChangeRecord, defineTopicStore, parseRecordHead, storedChange, type NewChange } from './preamble.js';
import { overRetention, resolveRetention, type TopicRetention } from './retention.js';
import type { AppendResult, StoredChange, TopicStore } from './topic-store.js';

/**
 * On-disk layout version, kept under `format` in the `meta` database. A store refuses to open a
 * directory written in another format rather than misread it; a format 1 directory (every
 * clientId a key of `dedup`) is read as it is and marked 2, which format 1 code then refuses.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * console.log(`topic store format ${LMDB_STORE_FORMAT}`);
 * ```
 */
export const LMDB_STORE_FORMAT = 2;

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
type RunKey = [topic: string, lastSeq: number];

/** One append waiting for its transaction. */
interface PendingAppend {
  topic: string;
  change: NewChange;
}

/**
 * A topic's entry in the `sizes` database: its retained bytes, its indexed seq and the last seq
 * of its format 1 days (`legacy`: the clientIds up to it are keys of `dedup`). Format 1 kept the
 * bytes alone (a number).
 */
type TopicMeta = number | { bytes: number; indexed: number; legacy: number };

/**
 * What a transaction needs to know of a topic's log: its last and first retained seq, its
 * retained bytes, and where its clientIds are.
 */
interface TopicState {
  head: number;
  /** First retained seq; 0 while the topic has no change. */
  first: number;
  bytes: number;
  /** The clientIds of the changes up to this seq are in `runs` (or, up to `legacy`, in `dedup`). */
  indexed: number;
  /** The changes up to this seq were written by format 1: their clientIds are keys of `dedup`. */
  legacy: number;
  /** The topic's `runs`, merged. */
  index: ClientIdIndex;
  /** The clientIds of the changes after `indexed` (in memory only: the records carry them). */
  tail: ClientIdSeqs;
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
 * Layout: five named databases in one environment.
 * - `changes`: `[topic, seq]` → the JSON text of `{ publishedAt, clientId?, data }`. The head of a
 *   topic is the last key of its range; no separate counter can disagree with the log.
 * - `runs`: `[topic, last seq]` → a sorted run of (hash of a clientId, seq) pairs, 12 bytes each
 *   (`clientid-runs.ts`), for the changes up to the topic's indexed seq.
 * - `sizes`: topic → `{ bytes, indexed, legacy }`: the UTF-8 bytes of its retained records, for
 *   retention's `maxBytes` (computed once by a scan for a topic written before this database
 *   existed), its indexed seq and its `legacy` seq, written in the same transaction as the changes.
 * - `dedup`: `[topic, clientId]` → seq, written by format 1 (one key per append); read, and
 *   trimmed, for the changes up to a topic's `legacy` seq.
 * - `meta`: `format` → {@link LMDB_STORE_FORMAT}, `salt` → the salt of the hashes in `runs`.
 *
 * Exactly once: the clientIds of a topic's changes after its indexed seq are held in memory (a
 * {@link ClientIdSeqs}), since the records carry them: one write per append instead of two, where
 * the second — a random key — cost more than the rest of the append. A tail is written as one run
 * once it holds {@link DEDUP_TAIL_FLUSH_AT} clientIds (or all tails pass {@link DEDUP_TAIL_BUDGET}),
 * and after a restart it is read back from the records after the indexed seq. Each cached topic
 * holds its runs merged in memory (within {@link DEDUP_INDEX_BUDGET}), so a clientId is looked up
 * by a binary search, and a hash's candidate is confirmed by the clientId in its record.
 *
 * Retention runs in the append's transaction: while the topic passes a limit of `retention`, its
 * oldest change and that change's clientId are removed (the newest is always kept).
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
  const sizes = root.openDB<TopicMeta, string>({ name: 'sizes', encoding: 'json' });
  const runs = root.openDB<Buffer, RunKey>({ name: 'runs', encoding: 'binary' });

  const format = meta.get('format');
  if (format === undefined || format === 1) {
    await meta.put('format', LMDB_STORE_FORMAT);
  } else if (format !== LMDB_STORE_FORMAT) {
    await root.close();
    throw new Error(`${options.path} holds a topic store of format ${format}, expected ${LMDB_STORE_FORMAT}`);
  }
  let salt = meta.get('salt');
  if (salt === undefined) await meta.put('salt', (salt = randomInt(0, 0x1_0000_0000)));

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

  /** Bytes of the retained records of `topic`, counted (once, for a store older than `sizes`). */
  const countBytes = (topic: string): number => {
    let bytes = 0;
    for (const { value } of changes.getRange({ start: [topic, 0], end: [topic, Infinity] })) bytes += utf8Length(value);
    return bytes;
  };

  /**
   * The state of `topic` as the database holds it (inside a transaction: it sees the batch's
   * writes), its tail read back from the records after its indexed seq.
   */
  const loadState = (topic: string): TopicState => {
    const head = lastSeq(topic);
    const first = firstSeq(topic);
    const known = sizes.get(topic);
    // A number (format 1) or nothing: every clientId of the topic is a key of `dedup`.
    const { bytes, indexed, legacy } =
      typeof known === 'object' ? known : { bytes: known ?? countBytes(topic), indexed: head, legacy: head };
    const state: TopicState = {
      head,
      first,
      bytes,
      indexed,
      legacy,
      index: new ClientIdIndex(),
      tail: new ClientIdSeqs(),
    };
    const stored = Array.from(runs.getRange({ start: [topic, first], end: [topic, Infinity] }), ({ value }) =>
      decodeRun(value),
    );
    state.index.mergeAll(stored, first);
    for (const { key, value } of changes.getRange({ start: [topic, indexed + 1], end: [topic, Infinity] })) {
      const { clientId } = parseRecordHead(value);
      if (clientId !== undefined) state.tail.add(clientId, key[1]);
    }
    return state;
  };

  /** Topic states, least recently written first (a written topic is moved to the end). */
  const cache = new Map<string, TopicState>();
  /** clientIds held by the tails of the cached states, and pairs held by their indexes. */
  let tailEntries = 0;
  let indexEntries = 0;
  /** Counts `state`'s tail and index in (`+1`) or out of (`-1`) the budgets' totals. */
  const countEntries = (state: TopicState, sign: 1 | -1): void => {
    tailEntries += sign * state.tail.size;
    indexEntries += sign * state.index.size;
  };
  /** Id of the last transaction this store committed; -1 when the cache must not be trusted. */
  let lastTxnId = -1;

  /**
   * Drops every remembered state but those of `keep` (each is read again from the database when
   * next needed).
   */
  const forgetStates = (keep?: ReadonlyMap<string, TopicState>): void => {
    cache.clear();
    tailEntries = 0;
    indexEntries = 0;
    for (const [topic, state] of keep ?? []) {
      cache.set(topic, state);
      countEntries(state, 1);
    }
  };

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
      if (clientId !== undefined) {
        if (state.tail.remove(clientId, state.first)) tailEntries--;
        else if (state.first <= state.legacy && dedup.get([topic, clientId]) === state.first)
          dedup.remove([topic, clientId]);
      }
      state.first++;
    }
  };

  /**
   * Writes the tail of `topic` as a run (inside the batch's transaction), merges it into the
   * topic's index and empties it; drops the runs wholly before the first retained change.
   */
  const flushTail = (topic: string, state: TopicState): void => {
    if (state.tail.size === 0) return; // (a run's key is its last seq: an empty one would replace one)
    countEntries(state, -1);
    const run = runOfTail(state.tail, salt);
    void runs.put([topic, state.head], encodeRun(run));
    state.index.merge(run, state.first);
    countEntries(state, 1);
    state.indexed = state.head;
    // The keys are read before any is removed: no cursor walks a range being changed.
    const spent = [...runs.getKeys({ start: [topic, 0], end: [topic, state.first] })];
    for (const key of spent) void runs.remove(key);
  };

  /**
   * The earlier change of `clientId` in `topic`, if it is retained: from the tail, else from the
   * index (a candidate confirmed by its record's clientId), else from format 1's `dedup`.
   */
  const findEarlier = (topic: string, state: TopicState, clientId: string): StoredChange | undefined => {
    /** The change at `seq` if it is retained (and, given `withClientId`, was published with it). */
    const retained = (seq: number | undefined, withClientId?: string): StoredChange | undefined => {
      if (seq === undefined || seq < state.first) return undefined;
      const record = changes.get([topic, seq]);
      if (record === undefined) return undefined;
      if (withClientId !== undefined && parseRecordHead(record).clientId !== withClientId) return undefined;
      return decodeChangeRecord(topic, seq, record);
    };
    const inTail = state.tail.seqOf(clientId);
    if (inTail !== undefined) return retained(inTail);
    if (state.index.size > 0) {
      for (const seq of state.index.seqsOf(hashClientId(clientId, salt))) {
        const earlier = retained(seq, clientId);
        if (earlier !== undefined) return earlier;
      }
    }
    return state.first <= state.legacy ? retained(dedup.get([topic, clientId])) : undefined;
  };

  /** Drops the least recently written states not in `keep` while the tails or indexes pass their budget. */
  const dropColdStates = (keep: ReadonlyMap<string, TopicState>): void => {
    for (const [topic, state] of cache) {
      if (tailEntries <= DEDUP_TAIL_BUDGET && indexEntries <= DEDUP_INDEX_BUDGET) return;
      if (keep.has(topic)) continue;
      cache.delete(topic);
      countEntries(state, -1);
    }
  };

  /** Applies one append inside the batch's transaction. */
  const applyAppend = ({ topic, change }: PendingAppend, touched: Map<string, TopicState>): AppendResult => {
    const { clientId } = change;
    let state = touched.get(topic);
    if (state === undefined) {
      state = cache.get(topic);
      if (state === undefined) {
        if (cache.size >= LMDB_CACHED_TOPICS) forgetStates(touched);
        state = loadState(topic);
        countEntries(state, 1);
      }
      // Moved to the end: the cache's order is the order topics were last written.
      cache.delete(topic);
      cache.set(topic, state);
      touched.set(topic, state);
    }
    const seq = state.head + 1;
    if (clientId !== undefined) {
      const earlier = findEarlier(topic, state, clientId);
      if (earlier !== undefined) return { change: earlier, duplicate: true };
      // New, or its earlier change is gone: this change takes the clientId over.
      tailEntries += state.tail.add(clientId, seq);
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
    if (run.txnId !== lastTxnId + 1) forgetStates();
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
    for (const [topic, state] of touched) {
      if (state.tail.size >= DEDUP_TAIL_FLUSH_AT || tailEntries > DEDUP_TAIL_BUDGET) flushTail(topic, state);
      void sizes.put(topic, { bytes: state.bytes, indexed: state.indexed, legacy: state.legacy });
    }
    dropColdStates(touched);
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
      forgetStates();
      throw error;
    }
    if (!Array.isArray(result)) {
      // ABORT: the transaction was rolled back.
      lastTxnId = -1;
      forgetStates();
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
