import { describe, expect, it } from 'vitest';
import { createMemoryTopicStore } from '../../../src/server/store/index.js';
import { describeTopicStoreConformance } from './conformance.js';

describeTopicStoreConformance('createMemoryTopicStore', async (options) => ({
  store: createMemoryTopicStore(options),
}));

describe('createMemoryTopicStore', () => {
  it('keeps a frozen copy of the data, so neither the publisher nor a reader can change a stored change', async () => {
    const store = createMemoryTopicStore();
    const data = { list: [1, 2] };
    await store.append('t', data);
    data.list.push(3);
    const [change] = await store.read('t', 0, 1);
    expect(change!.data).toEqual({ list: [1, 2] });
    expect(Object.isFrozen(change!.data)).toBe(true);
    expect(() => (change!.data as { list: number[] }).list.push(4)).toThrow(TypeError);
    await store.close();
  });
});
