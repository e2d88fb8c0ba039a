/**
 * The clientIds of a topic's newest changes, held in memory by the LMDB store instead of being
 * written to its `dedup` database one random key per append (which dominated the store's cost:
 * every append dirtied one more B-tree page). The records themselves carry their clientId, so a
 * tail lost with the process is read back from the records after the topic's indexed seq; the
 * store writes a tail as one sorted run (`clientid-runs.ts`) once it is
 * {@link DEDUP_TAIL_FLUSH_AT} long, or sooner when all tails together pass
 * {@link DEDUP_TAIL_BUDGET}.
 *
 * @module
 */

/**
 * A topic's tail is written as one run (and emptied) once it holds this many clientIds; so at
 * most about this many records are read again to rebuild it after a restart.
 */
export const DEDUP_TAIL_FLUSH_AT = 4_096;

/**
 * Most clientIds all topics' tails hold in memory together (about 100 bytes each); past it the
 * tails of the topics a transaction wrote are flushed, and the least recently written topics'
 * tails are dropped (to be read again from their records when they are next written).
 */
export const DEDUP_TAIL_BUDGET = 262_144;

/**
 * Most (hash, seq) pairs all cached topics' indexes of flushed clientIds hold in memory together
 * (12 bytes each, about 24 MB); past it the least recently written topics' states are dropped
 * (their indexes are read again from their runs when they are next written).
 */
export const DEDUP_INDEX_BUDGET = 2_097_152;

/**
 * clientId → seq for the changes of one topic after its indexed seq (internal to the LMDB store).
 *
 * @example
 * ```ts
 * const tail = new DedupTail();
 * tail.add('c-1', 7);
 * tail.seqOf('c-1'); // 7
 * ```
 */
export class DedupTail {
  readonly #seqs = new Map<string, number>();

  /** clientIds held. */
  get size(): number {
    return this.#seqs.size;
  }

  /**
   * The seq of the change appended with `clientId`, if it is in this tail.
   *
   * @param clientId - the publisher's id of the change
   */
  seqOf(clientId: string): number | undefined {
    return this.#seqs.get(clientId);
  }

  /**
   * Remembers that `clientId`'s change got `seq` (replacing what the tail held for it).
   *
   * @param clientId - the publisher's id of the change
   * @param seq - its seq in the topic
   * @returns how many clientIds the tail gained (0 or 1)
   */
  add(clientId: string, seq: number): number {
    const before = this.#seqs.size;
    this.#seqs.set(clientId, seq);
    return this.#seqs.size - before;
  }

  /**
   * Forgets `clientId` when it maps to `seq` (retention dropped that change).
   *
   * @param clientId - the publisher's id of the dropped change
   * @param seq - the dropped change's seq
   * @returns whether it was held
   */
  remove(clientId: string, seq: number): boolean {
    if (this.#seqs.get(clientId) !== seq) return false;
    return this.#seqs.delete(clientId);
  }

  /** Empties the tail, returning its entries in the order they were added (a run sorts them by hash). */
  drain(): Array<[clientId: string, seq: number]> {
    const entries = [...this.#seqs];
    this.#seqs.clear();
    return entries;
  }
}
