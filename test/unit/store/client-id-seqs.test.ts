import { describe, expect, it } from 'vitest';
import { ClientIdSeqs } from '../../../src/server/store/client-id-seqs.js';

describe('ClientIdSeqs', () => {
  it('maps each clientId to the seq of its change, counting what it gains', () => {
    const tail = new ClientIdSeqs();
    expect(tail.add('b', 1)).toBe(1);
    expect(tail.add('a', 2)).toBe(1);
    expect(tail.seqOf('b')).toBe(1);
    expect(tail.seqOf('missing')).toBeUndefined();
    // Taken over by a later change: replaced, not counted twice.
    expect(tail.add('b', 3)).toBe(0);
    expect(tail.seqOf('b')).toBe(3);
    expect(tail.size).toBe(2);
  });

  it('forgets a clientId only for the seq it maps to', () => {
    const tail = new ClientIdSeqs();
    tail.add('c', 5);
    expect(tail.remove('c', 4)).toBe(false);
    expect(tail.seqOf('c')).toBe(5);
    expect(tail.remove('c', 5)).toBe(true);
    expect(tail.seqOf('c')).toBeUndefined();
    expect(tail.size).toBe(0);
  });

  it('drains its entries in the order they were added and is empty afterwards', () => {
    const tail = new ClientIdSeqs();
    for (const [id, seq] of [
      ['m', 1],
      ['b', 2],
      ['z', 3],
      ['a', 4],
    ] as const)
      tail.add(id, seq);
    expect(tail.drain()).toEqual([
      ['m', 1],
      ['b', 2],
      ['z', 3],
      ['a', 4],
    ]);
    expect(tail.size).toBe(0);
    expect(tail.seqOf('a')).toBeUndefined();
  });
});
