import { mkdir } from 'node:fs/promises';
import { utf8Length } from '../../shared/json-size.js';
import { LMDB_PEER, loadOptionalPeer } from '../optional-peer.js';
import { decodeChangeRecord, defineTopicStore, parseRecordHead, storedChange } from './preamble.js';
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
 * Each append is one lmdb-js transaction callback: lmdb-js runs queued callbacks one after another
 * inside the write transaction (reads there see the earlier callbacks' writes), so the dedup check,
 * the head read and both puts are atomic and concurrent appends are serialised. The promise
 * resolves after the commit has also been flushed to disk (`db.flushed`, as lmdb-js overlaps
 * flushing with the next commit by default).
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
  const { open } = await loadOptionalPeer(LMDB_PEER, () => import('lmdb'));
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

  /** Drops the oldest changes of `topic` while it passes a retention limit (inside a transaction). */
  const trim = (topic: string, head: number, bytes: number, now: number): number => {
    for (let first = firstSeq(topic); first > 0 && first < head; first++) {
      const oldest = changes.get([topic, first]);
      if (oldest === undefined) break;
      const { publishedAt, clientId } = parseRecordHead(oldest);
      const log = { count: head - first + 1, bytes, oldestPublishedAt: publishedAt, newestPublishedAt: now };
      if (!overRetention(retention, log)) break;
      changes.remove([topic, first]);
      bytes -= utf8Length(oldest);
      if (clientId !== undefined && dedup.get([topic, clientId]) === first) dedup.remove([topic, clientId]);
    }
    return bytes;
  };

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
    async append(topic, change) {
      const { clientId } = change;
      // The record is JSON text composed around the data's JSON, so nothing can throw in the
      // transaction (lmdb-js keeps the puts of a callback that throws).
      const text = change.record;
      const result = await root.transaction((): AppendResult => {
        if (clientId !== undefined) {
          const seq = dedup.get([topic, clientId]);
          const original = seq === undefined ? undefined : changes.get([topic, seq]);
          if (seq !== undefined && original !== undefined)
            return { change: decodeChangeRecord(topic, seq, original), duplicate: true };
        }
        const seq = lastSeq(topic) + 1;
        const bytes = storedBytes(topic) + change.bytes;
        // Inside a transaction a put's promise settles with the transaction, which is awaited.
        void changes.put([topic, seq], text);
        if (clientId !== undefined) void dedup.put([topic, clientId], seq);
        void sizes.put(topic, trim(topic, seq, bytes, change.publishedAt));
        return { change: storedChange(topic, seq, change), duplicate: false };
      });
      await root.flushed;
      return result;
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
      // root.close() waits for the queued transactions; flushed makes their last commit durable.
      await root.flushed;
      await root.close();
    },
  });
}
