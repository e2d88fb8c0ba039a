import { describe, expect, it } from 'vitest';
import {
  ClientIdIndex,
  decodeRun,
  encodeRun,
  hashClientId,
  runOfTail,
} from '../../../src/server/store/clientid-runs.js';
import { ClientIdSeqs } from '../../../src/server/store/client-id-seqs.js';

const tailOf = (entries: Array<[string, number]>): ClientIdSeqs => {
  const tail = new ClientIdSeqs();
  for (const [clientId, seq] of entries) tail.add(clientId, seq);
  return tail;
};

describe('clientId runs', () => {
  it('hashes a clientId to an unsigned 32-bit integer that depends on the salt', () => {
    const a = hashClientId('c-1', 1);
    expect(a).toBe(hashClientId('c-1', 1));
    expect(Number.isInteger(a) && a >= 0 && a < 2 ** 32).toBe(true);
    expect(hashClientId('c-1', 2)).not.toBe(a);
    expect(hashClientId('c-2', 1)).not.toBe(a);
  });

  it('empties a tail into a run sorted by hash, and round-trips it through its bytes', () => {
    const tail = tailOf([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const run = runOfTail(tail, 7);
    expect(tail.size).toBe(0);
    expect([...run.hashes]).toEqual([...run.hashes].sort((x, y) => x - y));
    expect(new Set(run.seqs)).toEqual(new Set([1, 2, 3]));
    const bytes = encodeRun(run);
    expect(bytes.length).toBe(36);
    const decoded = decodeRun(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    expect([...decoded.hashes]).toEqual([...run.hashes]);
    expect([...decoded.seqs]).toEqual([...run.seqs]);
    expect(() => decodeRun(new Uint8Array(13))).toThrow(RangeError);
  });

  it('merges runs into one index, finds every seq under a hash, and drops seqs below the first retained', () => {
    const index = new ClientIdIndex();
    index.merge({ hashes: Uint32Array.of(5, 9, 9), seqs: Float64Array.of(1, 2, 4) }, 0);
    index.merge({ hashes: Uint32Array.of(1, 9), seqs: Float64Array.of(5, 3) }, 0);
    expect(index.size).toBe(5);
    expect(index.seqsOf(9)).toEqual([2, 3, 4]);
    expect(index.seqsOf(1)).toEqual([5]);
    expect(index.seqsOf(7)).toEqual([]);
    expect(index.seqsOf(10)).toEqual([]);
    index.merge({ hashes: Uint32Array.of(2), seqs: Float64Array.of(6) }, 3);
    expect(index.size).toBe(4);
    expect(index.seqsOf(9)).toEqual([3, 4]);
    expect(index.seqsOf(5)).toEqual([]);
    expect(index.seqsOf(2)).toEqual([6]);
  });

  it('merges many runs at once like one by one', () => {
    const runs = Array.from({ length: 5 }, (_, r) => ({
      hashes: Uint32Array.from({ length: 4 }, (_, i) => i * 10 + r),
      seqs: Float64Array.from({ length: 4 }, (_, i) => r * 4 + i + 1),
    }));
    const oneByOne = new ClientIdIndex();
    for (const run of runs) oneByOne.merge(run, 3);
    const atOnce = new ClientIdIndex();
    atOnce.mergeAll(runs, 3);
    expect(atOnce.size).toBe(18);
    for (let hash = 0; hash < 40; hash++) expect(atOnce.seqsOf(hash)).toEqual(oneByOne.seqsOf(hash));
  });
});
