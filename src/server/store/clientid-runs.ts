/**
 * The LMDB store's index of flushed clientIds: sorted runs of (hash of the clientId, seq) pairs.
 * A topic's tail of clientIds ({@link ClientIdSeqs}) is written as one run — a single LMDB value,
 * 12 bytes per clientId — instead of one B-tree key per clientId, and each cached topic holds its
 * runs merged in memory, so a lookup is a binary search. A hash names candidate seqs only: the
 * store confirms a candidate by the clientId in its record, so two clientIds with one hash cost
 * an extra read, never a wrong answer.
 *
 * @module
 */

import type { ClientIdSeqs } from './client-id-seqs.js';

/**
 * A 32-bit hash of `clientId` under `salt` (FNV-1a over its UTF-16 code units, then MurmurHash3's
 * finaliser). The salt is random per store, so a client cannot aim for another's hash.
 *
 * @param clientId - the publisher's id of a change
 * @param salt - the store's salt (an unsigned 32-bit integer)
 * @returns an unsigned 32-bit integer
 *
 * @example
 * ```ts
 * const hash = hashClientId('c-1', 0x9e3779b9);
 * ```
 */
export function hashClientId(clientId: string, salt: number): number {
  let hash = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < clientId.length; i++) {
    hash ^= clientId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Pairs sorted by hash, then seq: `hashes[i]` belongs to `seqs[i]`. */
export interface ClientIdRun {
  readonly hashes: Uint32Array;
  readonly seqs: Float64Array;
}

/**
 * Empties `tail` into a sorted run.
 *
 * @param tail - the clientIds to flush
 * @param salt - the store's salt
 *
 * @example
 * ```ts
 * const run = runOfTail(state.tail, salt);
 * ```
 */
export function runOfTail(tail: ClientIdSeqs, salt: number): ClientIdRun {
  const entries = tail.drain();
  const pairs = entries.map(([clientId, seq]) => [hashClientId(clientId, salt), seq] as const);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const hashes = new Uint32Array(pairs.length);
  const seqs = new Float64Array(pairs.length);
  pairs.forEach(([hash, seq], i) => {
    hashes[i] = hash;
    seqs[i] = seq;
  });
  return { hashes, seqs };
}

/**
 * The bytes LMDB keeps for `run`: its seqs (8 bytes each), then its hashes (4 each), in the
 * platform's byte order (as LMDB's own files are).
 *
 * @param run - a sorted run
 *
 * @example
 * ```ts
 * void runs.put([topic, head], encodeRun(run));
 * ```
 */
export function encodeRun(run: ClientIdRun): Buffer {
  const bytes = Buffer.allocUnsafe(run.seqs.length * 12);
  Buffer.from(run.seqs.buffer, run.seqs.byteOffset, run.seqs.byteLength).copy(bytes, 0);
  Buffer.from(run.hashes.buffer, run.hashes.byteOffset, run.hashes.byteLength).copy(bytes, run.seqs.byteLength);
  return bytes;
}

/**
 * Reads what {@link encodeRun} wrote (copying it: typed arrays need aligned memory).
 *
 * @param bytes - a stored run
 * @throws RangeError when `bytes` is not a whole number of pairs
 *
 * @example
 * ```ts
 * const run = decodeRun(stored);
 * ```
 */
export function decodeRun(bytes: Uint8Array): ClientIdRun {
  if (bytes.length % 12 !== 0) throw new RangeError(`a clientId run of ${bytes.length} bytes is not whole pairs`);
  const count = bytes.length / 12;
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return { seqs: new Float64Array(copy, 0, count), hashes: new Uint32Array(copy, count * 8, count) };
}

/**
 * A topic's flushed clientIds in memory: its runs merged into one sorted run (internal to the
 * LMDB store).
 *
 * @example
 * ```ts
 * const index = new ClientIdIndex();
 * index.merge(runOfTail(tail, salt), state.first);
 * for (const seq of index.seqsOf(hashClientId('c-1', salt))) console.log(seq);
 * ```
 */
export class ClientIdIndex {
  #run: ClientIdRun = { hashes: new Uint32Array(0), seqs: new Float64Array(0) };

  /** Pairs held. */
  get size(): number {
    return this.#run.seqs.length;
  }

  /**
   * The seqs held under `hash`, ascending.
   *
   * @param hash - {@link hashClientId} of a clientId
   */
  seqsOf(hash: number): number[] {
    const { hashes, seqs } = this.#run;
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((hashes[middle] as number) < hash) low = middle + 1;
      else high = middle;
    }
    const found: number[] = [];
    for (let i = low; i < hashes.length && hashes[i] === hash; i++) found.push(seqs[i] as number);
    return found;
  }

  /**
   * Adds the pairs of `run`, dropping every pair (old or new) whose seq is below `minSeq`
   * (retention removed those changes).
   *
   * @param run - a sorted run
   * @param minSeq - the topic's first retained seq
   */
  merge(run: ClientIdRun, minSeq: number): void {
    this.#run = mergeRuns(this.#run, run, minSeq);
  }

  /**
   * Adds several runs at once, merged pairwise (n log k for k runs, not n k).
   *
   * @param added - sorted runs
   * @param minSeq - the topic's first retained seq
   */
  mergeAll(added: readonly ClientIdRun[], minSeq: number): void {
    let level = [this.#run, ...added];
    while (level.length > 1) {
      const next: ClientIdRun[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const a = level[i] as ClientIdRun;
        const b = level[i + 1];
        next.push(b === undefined ? a : mergeRuns(a, b, minSeq));
      }
      level = next;
    }
    this.#run = level[0] as ClientIdRun;
  }
}

/** The pairs of `a` and `b` in one sorted run, without those whose seq is below `minSeq`. */
function mergeRuns(a: ClientIdRun, b: ClientIdRun, minSeq: number): ClientIdRun {
  const hashes = new Uint32Array(a.seqs.length + b.seqs.length);
  const seqs = new Float64Array(hashes.length);
  let i = 0;
  let j = 0;
  let out = 0;
  while (i < a.seqs.length || j < b.seqs.length) {
    const takeA =
      j >= b.seqs.length ||
      (i < a.seqs.length &&
        ((a.hashes[i] as number) < (b.hashes[j] as number) ||
          (a.hashes[i] === b.hashes[j] && (a.seqs[i] as number) < (b.seqs[j] as number))));
    const from = takeA ? a : b;
    const index = takeA ? i++ : j++;
    const seq = from.seqs[index] as number;
    if (seq < minSeq) continue;
    hashes[out] = from.hashes[index] as number;
    seqs[out++] = seq;
  }
  return { hashes: hashes.subarray(0, out), seqs: seqs.subarray(0, out) };
}
