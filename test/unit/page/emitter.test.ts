import { describe, expect, it } from 'vitest';
import { Emitter } from '../../../src/shared/emitter.js';

describe('Emitter', () => {
  it('calls every listener in subscription order with the emitted value', () => {
    const emitter = new Emitter<number>();
    const heard: string[] = [];
    emitter.on((n) => heard.push(`a${n}`));
    emitter.on((n) => heard.push(`b${n}`));
    emitter.emit(1);
    emitter.emit(2);
    expect(heard).toEqual(['a1', 'b1', 'a2', 'b2']);
  });

  it('stops calling a listener once unsubscribed; unsubscribing twice does nothing', () => {
    const emitter = new Emitter<string>();
    const heard: string[] = [];
    const off = emitter.on((s) => heard.push(s));
    emitter.emit('before');
    off();
    off();
    emitter.emit('after');
    expect(heard).toEqual(['before']);
    expect(emitter.size).toBe(0);
  });

  it('keeps two subscriptions of the same function apart', () => {
    const emitter = new Emitter<void>();
    let calls = 0;
    const listener = () => void calls++;
    const off = emitter.on(listener);
    emitter.on(listener);
    emitter.emit();
    off();
    emitter.emit();
    expect(calls).toBe(3);
  });

  it('goes on with the other listeners when one throws, and reports the error', () => {
    const reported: unknown[] = [];
    const emitter = new Emitter<number>((error) => reported.push(error));
    const heard: number[] = [];
    const boom = new Error('listener failed');
    emitter.on(() => {
      throw boom;
    });
    emitter.on((n) => heard.push(n));
    emitter.emit(7);
    expect(heard).toEqual([7]);
    expect(reported).toEqual([boom]);
  });

  it('reports a throwing listener asynchronously by default, after emit returned', async () => {
    const emitter = new Emitter<number>();
    const boom = new Error('listener failed');
    emitter.on(() => {
      throw boom;
    });
    // The default reporter rethrows in a microtask of its own; catch it where it surfaces.
    const surfaced = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = (task) =>
        original(() => {
          globalThis.queueMicrotask = original;
          try {
            task();
          } catch (error) {
            resolve(error);
          }
        });
    });
    expect(() => emitter.emit(1)).not.toThrow();
    await expect(surfaced).resolves.toBe(boom);
  });

  it('does not call a listener unsubscribed by an earlier one during the same emit, nor one added during it', () => {
    const emitter = new Emitter<number>();
    const heard: string[] = [];
    let offB = () => {};
    emitter.on((n) => {
      heard.push(`a${n}`);
      offB();
      emitter.on((m) => heard.push(`c${m}`));
    });
    offB = emitter.on((n) => heard.push(`b${n}`));
    emitter.emit(1);
    expect(heard).toEqual(['a1']);
    emitter.emit(2);
    expect(heard).toEqual(['a1', 'a2', 'c2']);
  });

  it('refuses a listener that is not a function with a TypeError', () => {
    const emitter = new Emitter<number>();
    expect(() => emitter.on('nope' as unknown as () => void)).toThrow(TypeError);
  });
});
