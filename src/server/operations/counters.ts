/**
 * The counters of operations that no other module keeps: token refreshes, socket closes by code,
 * refused upgrades by reason. No user ids, only counts.
 *
 * @module
 */

/**
 * The operations counters in {@link SessionServerStats}, `GET /health` and `GET /metrics`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const { refreshes, closesByCode } = server.stats();
 * console.log(`${refreshes} refreshes, ${closesByCode['4002'] ?? 0} sessions expired`);
 * ```
 */
export interface OperationsCounts {
  /** Accepted `update-token`s (token refreshes on the live socket) since the server started. */
  refreshes: number;
  /**
   * Finished sockets by close code (as text: `'1000'`, `'4001'`, …): the code of the close
   * handshake, whichever side started it, or 1006 for a socket that died without one.
   */
  closesByCode: Record<string, number>;
  /** Upgrades refused before a socket opened, by reason (`path`, `origin`, `shutdown`, …). */
  upgradesRejected: Record<string, number>;
}

/** Keeps the {@link OperationsCounts}. */
export class OperationsCounters {
  #refreshes = 0;
  readonly #closes = new Map<number, number>();
  readonly #rejected = new Map<string, number>();

  /** A token update was accepted. */
  refreshed(): void {
    this.#refreshes++;
  }

  /**
   * A socket finished.
   *
   * @param code - its close code
   */
  closed(code: number): void {
    this.#closes.set(code, (this.#closes.get(code) ?? 0) + 1);
  }

  /**
   * An upgrade was refused.
   *
   * @param reason - why (a short label)
   */
  rejected(reason: string): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
  }

  /** The counts now (fresh objects, sorted by key). */
  snapshot(): OperationsCounts {
    const byCode = [...this.#closes].sort(([a], [b]) => a - b);
    return {
      refreshes: this.#refreshes,
      closesByCode: Object.fromEntries(byCode.map(([code, count]) => [String(code), count])),
      upgradesRejected: Object.fromEntries([...this.#rejected].sort(([a], [b]) => a.localeCompare(b))),
    };
  }
}
