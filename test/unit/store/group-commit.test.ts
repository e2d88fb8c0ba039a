import { describe, expect, it } from 'vitest';
import { GroupCommit, type BatchWriter, type OpOutcome } from '../../../src/server/store/group-commit.js';
import { track } from '../support/track.js';

/** A promise settled from outside. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued callbacks of the event loop (setImmediate, promise jobs) run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A writer whose every batch (and flush) the test settles by hand. */
function manualWriter() {
  const batches: Array<{ ops: string[]; commit: ReturnType<typeof deferred<OpOutcome<string>[]>> }> = [];
  const flushes: Array<ReturnType<typeof deferred<void>>> = [];
  const nextBatch = { waiters: [] as Array<() => void> };
  const writer: BatchWriter<string, string> = {
    write(ops) {
      const commit = deferred<OpOutcome<string>[]>();
      batches.push({ ops: [...ops], commit });
      for (const wake of nextBatch.waiters.splice(0)) wake();
      return commit.promise;
    },
    durable() {
      const flush = deferred<void>();
      flushes.push(flush);
      return flush.promise;
    },
  };
  /** Resolves once the writer has received `count` batches. */
  const batchCount = async (count: number): Promise<void> => {
    while (batches.length < count) await new Promise<void>((resolve) => nextBatch.waiters.push(resolve));
  };
  const ok = (ops: string[]): OpOutcome<string>[] => ops.map((op) => ({ ok: true, value: `stored ${op}` }));
  return { writer, batches, flushes, batchCount, ok };
}

const limits = { maxOps: 100, maxBytes: 1_000, size: (op: string) => op.length };

describe('GroupCommit', () => {
  it('writes what arrives in one turn as one batch, and what arrives while it is written as the next, in order', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    const first = ['a', 'b'].map((op) => queue.submit(op));
    await batchCount(1);
    expect(batches[0]!.ops).toEqual(['a', 'b']);
    const second = ['c', 'd', 'e'].map((op) => queue.submit(op));
    await tick();
    expect(batches).toHaveLength(1); // one transaction at a time
    batches[0]!.commit.resolve(ok(['a', 'b']));
    await batchCount(2);
    expect(batches[1]!.ops).toEqual(['c', 'd', 'e']);
    flushes[0]!.resolve();
    expect(await Promise.all(first)).toEqual(['stored a', 'stored b']);
    batches[1]!.commit.resolve(ok(['c', 'd', 'e']));
    await tick();
    flushes[1]!.resolve();
    expect(await Promise.all(second)).toEqual(['stored c', 'stored d', 'stored e']);
  });

  it('settles an operation only after its batch committed and that commit is durable', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    const result = track(queue.submit('a'));
    await batchCount(1);
    await tick();
    expect(result.state).toBe('pending');
    batches[0]!.commit.resolve(ok(['a']));
    await tick();
    expect(result.state).toBe('pending'); // committed, not yet flushed
    flushes[0]!.resolve();
    await tick();
    expect(result).toEqual({ state: 'resolved', value: 'stored a' });
  });

  it('acknowledges at the commit when the writer has no durability step', async () => {
    const outcomes: OpOutcome<number>[] = [{ ok: true, value: 1 }];
    const queue = new GroupCommit<string, number>({ write: async () => outcomes }, limits);
    expect(await queue.submit('a')).toBe(1);
  });

  it('rejects only the operation whose write failed and writes the others again, ahead of newer ones', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    const a = track(queue.submit('a'));
    const b = track(queue.submit('b'));
    const c = track(queue.submit('c'));
    await batchCount(1);
    const d = track(queue.submit('d'));
    const failure = new Error('b cannot be applied');
    batches[0]!.commit.resolve(['retry', { ok: false, error: failure }, 'retry']);
    await batchCount(2);
    expect(batches[1]!.ops).toEqual(['a', 'c', 'd']);
    await tick();
    expect(b).toEqual({ state: 'rejected', error: failure });
    batches[1]!.commit.resolve(ok(['a', 'c', 'd']));
    await tick();
    for (const flush of flushes) flush.resolve();
    await tick();
    expect([a.value, c.value, d.value]).toEqual(['stored a', 'stored c', 'stored d']);
  });

  it('rejects every operation of a batch whose transaction failed, and goes on with the next batch', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    const failed = ['a', 'b'].map((op) => track(queue.submit(op)));
    await batchCount(1);
    const later = track(queue.submit('c'));
    const disk = new Error('disk full');
    batches[0]!.commit.reject(disk);
    await batchCount(2);
    expect(failed).toEqual([
      { state: 'rejected', error: disk },
      { state: 'rejected', error: disk },
    ]);
    expect(flushes).toHaveLength(0); // nothing of the failed batch waits for a flush
    batches[1]!.commit.resolve(ok(['c']));
    await tick();
    flushes[0]!.resolve();
    await tick();
    expect(later).toEqual({ state: 'resolved', value: 'stored c' });
  });

  it('rejects every operation of a committed batch whose flush failed', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    const results = ['a', 'b'].map((op) => track(queue.submit(op)));
    await batchCount(1);
    batches[0]!.commit.resolve(ok(['a', 'b']));
    await tick();
    const io = new Error('fsync failed');
    flushes[0]!.reject(io);
    await tick();
    expect(results.map((r) => r.state)).toEqual(['rejected', 'rejected']);
    expect(results[0]!.error).toBe(io);
  });

  it('splits batches at maxOps and maxBytes, a single operation larger than maxBytes going alone', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, { maxOps: 3, maxBytes: 10, size: (op: string) => op.length });
    const all = ['a', 'b', 'c', 'd', 'x'.repeat(20), 'e'.repeat(6), 'f'.repeat(6)].map((op) => queue.submit(op));
    const expected = [['a', 'b', 'c'], ['d'], ['x'.repeat(20)], ['e'.repeat(6)], ['f'.repeat(6)]];
    for (let i = 0; i < expected.length; i++) {
      await batchCount(i + 1);
      expect(batches[i]!.ops).toEqual(expected[i]);
      batches[i]!.commit.resolve(ok(batches[i]!.ops));
      await tick();
      flushes[i]!.resolve();
    }
    expect(await Promise.all(all)).toHaveLength(7);
  });

  it('drains: resolves once every operation submitted so far has settled', async () => {
    const { writer, batches, flushes, batchCount, ok } = manualWriter();
    const queue = new GroupCommit(writer, limits);
    await queue.drain(); // idle
    const op = queue.submit('a');
    const drained = track(queue.drain());
    await batchCount(1);
    batches[0]!.commit.resolve(ok(['a']));
    await tick();
    expect(drained.state).toBe('pending');
    flushes[0]!.resolve();
    await op;
    await tick();
    expect(drained.state).toBe('resolved');
  });
});
