import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TopicChange } from '../../../src/protocol/host-api.js';
import type { ChangeMessage, ServerMessage } from '../../../src/protocol/messages.js';
import { createTopicCacheStore, type TopicCacheStore } from '../../../src/worker/topic-cache-store.js';
import { CACHE_SAVE_DELAY_MS, TopicSubscriptions, type TopicLink } from '../../../src/worker/topic-subscriptions.js';

const link: TopicLink = {
  request: async (body): Promise<ServerMessage> => {
    if (body.type !== 'subscribe') throw new Error(`unexpected ${body.type}`);
    return { type: 'subscribed', id: 1, topic: body.topic, head: 0 };
  },
  send: () => true,
};

const change = (seq: number): ChangeMessage => ({ type: 'change', topic: 't', seq, data: { n: seq }, publishedAt: 1 });

/** Topics over an in-memory cache that records each save (the seqs written) and when it happened. */
async function setup(limit = 100) {
  const memory = createTopicCacheStore(undefined);
  const saves: { at: number; seqs: number[] }[] = [];
  const cache: TopicCacheStore = {
    ...memory,
    save(userId, topic, changes, cursor, floor) {
      saves.push({ at: Date.now(), seqs: changes.map((c) => c.seq) });
      return memory.save(userId, topic, changes, cursor, floor);
    },
  };
  const delivered: number[] = [];
  const topics = new TopicSubscriptions(
    Promise.resolve(cache),
    {
      deliver: (_tab, _sub, changes: TopicChange[]) => delivered.push(...changes.map((c) => c.seq)),
      trimmed: () => {},
      fail: () => {},
    },
    limit,
  );
  topics.setUser('alice');
  topics.onConnected(link);
  await topics.add('tab', { subId: 'a', topic: 't' });
  return { topics, saves, delivered, memory };
}

describe('topic delivery path (spec §10 fan-out)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('writes the cache right after the delivery that finds the save due, not from a timer amid the stream', async () => {
    const { topics, saves, delivered } = await setup();
    const started = Date.now();
    topics.onChange(change(1));
    vi.advanceTimersByTime(CACHE_SAVE_DELAY_MS / 2);
    topics.onChange(change(2));
    expect(saves, 'not due yet').toEqual([]);
    vi.advanceTimersByTime(CACHE_SAVE_DELAY_MS / 2);
    expect(saves, 'no timer fires at the due time itself').toEqual([]);
    topics.onChange(change(3));
    await vi.runAllTimersAsync();
    expect(delivered).toEqual([1, 2, 3]);
    expect(saves[0], 'saved in the task of the delivery that found it due').toEqual({
      at: started + CACHE_SAVE_DELAY_MS,
      seqs: [1, 2, 3],
    });
  });

  it('still writes changes of a stream that paused, within twice the delay', async () => {
    const { topics, saves } = await setup();
    const started = Date.now();
    topics.onChange(change(1));
    await vi.advanceTimersByTimeAsync(2 * CACHE_SAVE_DELAY_MS);
    expect(saves).toEqual([{ at: started + 2 * CACHE_SAVE_DELAY_MS, seqs: [1] }]);
  });

  it('keeps exactly the newest `limit` changes in memory through a long stream', async () => {
    const limit = 50;
    const { topics, delivered, memory } = await setup(limit);
    for (let seq = 1; seq <= 10 * limit; seq++) topics.onChange(change(seq));
    await topics.flush();
    expect(delivered).toEqual(Array.from({ length: 10 * limit }, (_, i) => i + 1));
    const [topic] = topics.inspect();
    expect(topic).toMatchObject({ cursor: 10 * limit, cached: limit });
    const cached = await memory.load('alice', 't', 2 * limit);
    expect(cached.changes.map((c) => c.seq)).toEqual(Array.from({ length: limit }, (_, i) => 9 * limit + i + 1));
  });
});
