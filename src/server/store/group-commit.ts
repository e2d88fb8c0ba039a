/**
 * Group commit for the durable stores: appends that arrive while a transaction is being written
 * wait together and go into the next transaction, so that the cost of a commit (a disk flush, a
 * round trip to Redis) is paid once per batch instead of once per append, and each append is
 * still acknowledged only after the transaction that holds it has committed.
 *
 * @module
 */

/**
 * Most operations in one batch. Large enough that a commit's fixed cost is spread thin at any
 * rate this server can parse, small enough that one batch never holds the writer for long.
 *
 * @example
 * ```ts
 * const queue = new GroupCommit(backend, { maxOps: GROUP_COMMIT_MAX_OPS, maxBytes: GROUP_COMMIT_MAX_BYTES, size });
 * ```
 */
export const GROUP_COMMIT_MAX_OPS = 2_000;

/** Most bytes (as the store counts them, {@link GroupCommitLimits.size}) in one batch; a larger single operation goes alone. */
export const GROUP_COMMIT_MAX_BYTES = 8 * 1024 * 1024;

/** What became of one operation of a batch. */
export type OpOutcome<R> =
  | { ok: true; value: R }
  | { ok: false; error: unknown }
  /** Not applied (its transaction was rolled back because of another operation): queued again, in order. */
  | 'retry';

/**
 * The store's side of a group commit: writes a batch in one transaction.
 *
 * `write` applies `ops` in the order given, and resolves once the transaction is committed with
 * one outcome per operation. It rejects when the transaction as a whole failed (nothing of the
 * batch is stored), which fails every operation of the batch. When one operation cannot be
 * applied, a backend that can roll the transaction back answers that operation with its error and
 * every other with `'retry'`: they go into the next transaction, ahead of anything queued since.
 */
export interface BatchWriter<Op, R> {
  write(ops: readonly Op[]): Promise<OpOutcome<R>[]>;
  /**
   * Resolves once everything committed so far is durable (LMDB: flushed to disk). Optional: when
   * a commit is already durable, operations are acknowledged at the commit.
   */
  durable?(): Promise<void>;
}

/** How large a batch may grow. */
export interface GroupCommitLimits<Op> {
  /** Most operations per batch. */
  maxOps: number;
  /** Most bytes per batch, as `size` counts them (at least one operation per batch). */
  maxBytes: number;
  size(op: Op): number;
}

interface Pending<Op, R> {
  op: Op;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/**
 * A queue that batches operations into transactions of a {@link BatchWriter}: one transaction is
 * written at a time; operations submitted meanwhile form the next batch, which starts as soon as
 * the previous one has committed (its flush to disk may still run: the next commit overlaps it).
 * The first operation after an idle period waits for the current event-loop turn to end
 * (`setImmediate`), so that everything that arrived in the same turn shares its transaction.
 *
 * Guarantees: operations are applied in the order they were submitted (a retried operation keeps
 * its place); each promise resolves after its batch's transaction committed and, when the writer
 * has `durable`, after that commit is durable — never before. An operation the writer failed
 * (nothing of it stored) rejects as soon as the writer says so.
 *
 * @example
 * ```ts
 * const queue = new GroupCommit(writer, { maxOps: 1000, maxBytes: 1 << 20, size: (op) => op.bytes });
 * const seq = await queue.submit(op); // committed (and durable) when it resolves
 * await queue.drain();
 * ```
 */
export class GroupCommit<Op, R> {
  readonly #writer: BatchWriter<Op, R>;
  readonly #limits: GroupCommitLimits<Op>;
  #queue: Pending<Op, R>[] = [];
  /** A batch is being written (applied and committed); the next one waits for it. */
  #writing = false;
  #scheduled = false;
  /** Batches committed whose operations wait for durability. */
  #settling = 0;
  #idle: Array<() => void> = [];

  /**
   * @param writer - writes one batch per transaction
   * @param limits - the largest batch
   */
  constructor(writer: BatchWriter<Op, R>, limits: GroupCommitLimits<Op>) {
    this.#writer = writer;
    this.#limits = limits;
  }

  /** Operations queued for a batch that has not started yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues one operation for the next transaction.
   *
   * @param op - what to write
   * @returns its result, once its transaction committed (and is durable)
   */
  submit(op: Op): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every operation submitted so far has settled. */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && !this.#writing && !this.#scheduled && this.#settling === 0;
  }

  #schedule(): void {
    if (this.#writing || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#writeNext();
    });
  }

  /** Takes the next batch off the queue: at most `maxOps` operations and `maxBytes` (at least one). */
  #takeBatch(): Pending<Op, R>[] {
    const { maxOps, maxBytes, size } = this.#limits;
    let count = 0;
    let bytes = 0;
    for (const pending of this.#queue) {
      bytes += size(pending.op);
      if (count > 0 && (count >= maxOps || bytes > maxBytes)) break;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #writeNext(): Promise<void> {
    if (this.#writing || this.#queue.length === 0) return this.#checkIdle();
    this.#writing = true;
    const batch = this.#takeBatch();
    let outcomes: OpOutcome<R>[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.#writer.write(batch.map((pending) => pending.op));
      if (outcomes.length !== batch.length) throw new Error('the store answered a batch with the wrong count');
    } catch (error) {
      failure = error;
    }
    const retry = outcomes === undefined ? [] : batch.filter((_, i) => outcomes[i] === 'retry');
    if (retry.length > 0) this.#queue.unshift(...retry);
    this.#writing = false;
    // The next batch starts at the next turn of the event loop (a synchronous write would
    // otherwise run before this batch is acknowledged), and commits while this one is flushed.
    this.#schedule();
    if (outcomes === undefined) {
      for (const pending of batch) pending.reject(failure);
      return this.#checkIdle();
    }
    // An operation that failed left nothing stored: it is told at once.
    const committed: Array<{ pending: Pending<Op, R>; value: R }> = [];
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || outcome === 'retry') return;
      if (outcome.ok) committed.push({ pending, value: outcome.value });
      else pending.reject(outcome.error);
    });
    if (committed.length === 0) return this.#checkIdle();
    this.#settling++;
    try {
      if (this.#writer.durable !== undefined) await this.#writer.durable();
      for (const { pending, value } of committed) pending.resolve(value);
    } catch (error) {
      // Committed but not known to be durable: not acknowledged (a retry by clientId is deduplicated).
      for (const { pending } of committed) pending.reject(error);
    } finally {
      this.#settling--;
      this.#checkIdle();
    }
  }

  #checkIdle(): void {
    if (!this.#isIdle()) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
