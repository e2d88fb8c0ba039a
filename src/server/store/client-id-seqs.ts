/**
 * clientId → seq of a topic's changes, which makes a retried publish a duplicate: the memory
 * store's index of all retained changes, the LMDB store's tail of those after a topic's indexed
 * seq. Forgetting is by seq, so a change dropped by retention never takes away a later change's
 * entry for the same clientId. Internal to the stores.
 *
 * @example
 * ```ts
 * const seqs = new ClientIdSeqs();
 * seqs.add('c-1', 7);
 * seqs.seqOf('c-1'); // 7
 * seqs.remove('c-1', 6); // false: it maps to 7
 * ```
 */
export class ClientIdSeqs {
  readonly #seqs = new Map<string, number>();

  /** clientIds held. */
  get size(): number {
    return this.#seqs.size;
  }

  /**
   * The seq of the change appended with `clientId`, if it is held.
   *
   * @param clientId - the publisher's id of the change
   */
  seqOf(clientId: string): number | undefined {
    return this.#seqs.get(clientId);
  }

  /**
   * Remembers that `clientId`'s change got `seq` (replacing what was held for it).
   *
   * @param clientId - the publisher's id of the change
   * @param seq - its seq in the topic
   * @returns how many clientIds were gained (0 or 1)
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

  /** Empties it, returning its entries in the order they were added (a run sorts them by hash). */
  drain(): Array<[clientId: string, seq: number]> {
    const entries = [...this.#seqs];
    this.#seqs.clear();
    return entries;
  }
}
