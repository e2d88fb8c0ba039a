import { mkdir } from 'node:fs/promises';
import { LMDB_PEER, loadOptionalPeer } from '../optional-peer.js';
import { decodeChangeRecord, defineTopicStore, encodeChangeRecord, storedChange } from './preamble.js';
import type { AppendResult, TopicStore } from './topic-store.js';

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
 * - `meta`: `format` → {@link LMDB_STORE_FORMAT}.
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
  const { open } = await loadOptionalPeer(LMDB_PEER, () => import('lmdb'));
  await mkdir(options.path, { recursive: true });
  // noSubdir: false — `path` is always a directory, even when its name has a dot.
  const root = open({ path: options.path, noSubdir: false });
  const meta = root.openDB<number, string>({ name: 'meta', encoding: 'json' });
  const changes = root.openDB<string, ChangeKey>({ name: 'changes', encoding: 'string' });
  const dedup = root.openDB<number, DedupKey>({ name: 'dedup', encoding: 'json' });

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

  return defineTopicStore({
    async append(topic, change) {
      const { clientId } = change;
      // The record is JSON text composed around the data's JSON, so nothing can throw in the
      // transaction (lmdb-js keeps the puts of a callback that throws).
      const text = encodeChangeRecord(change);
      const result = await root.transaction((): AppendResult => {
        if (clientId !== undefined) {
          const seq = dedup.get([topic, clientId]);
          const original = seq === undefined ? undefined : changes.get([topic, seq]);
          if (seq !== undefined && original !== undefined)
            return { change: decodeChangeRecord(topic, seq, original), duplicate: true };
        }
        const seq = lastSeq(topic) + 1;
        changes.put([topic, seq], text);
        if (clientId !== undefined) dedup.put([topic, clientId], seq);
        return { change: storedChange(topic, seq, change), duplicate: false };
      });
      await root.flushed;
      return result;
    },

    async read(topic, after, limit) {
      const range = changes.getRange({ start: [topic, after + 1], end: [topic, Infinity], limit });
      return range.map(({ key, value }) => decodeChangeRecord(topic, key[1], value)).asArray;
    },

    async head(topic) {
      return lastSeq(topic);
    },

    async close() {
      // root.close() waits for the queued transactions; flushed makes their last commit durable.
      await root.flushed;
      await root.close();
    },
  });
}
