import { describe, expect, it } from 'vitest';
import { createLocalChangeFeed, createMemoryTopicStore, MAX_SEND_BUFFER_BYTES } from '../../../src/server/index.js';
import type { StoredChange, TopicStore } from '../../../src/server/index.js';
import { TopicGroup, type TopicContext } from '../../../src/server/topics/group.js';
import type { Subscriber } from '../../../src/server/topics/peer.js';
import { TopicSubscription } from '../../../src/server/topics/subscription.js';
import { waitFor } from './helpers.js';
import { range } from './topic-helpers.js';

const silent = { info() {}, warn() {}, error() {} };

function context(store: TopicStore = createMemoryTopicStore()): TopicContext {
  return {
    store,
    feed: createLocalChangeFeed(),
    logger: silent,
    counters: { changesSent: 0 },
    maxSendBufferBytes: MAX_SEND_BUFFER_BYTES,
  };
}

/** A subscriber that records the seqs it was sent, with a settable send buffer. */
function recorder(): Subscriber & { seqs: number[]; bufferedAmount: number } {
  return {
    seqs: [],
    bufferedAmount: 0,
    sendText(frame) {
      this.seqs.push((JSON.parse(frame.toString()) as StoredChange).seq);
    },
  };
}

/** Appends to the store without announcing: what the feed will (or will not) tell later. */
async function appendQuietly(ctx: TopicContext, count: number): Promise<StoredChange[]> {
  const appended: StoredChange[] = [];
  for (let i = 0; i < count; i++) appended.push((await ctx.store.append('t', i)).change);
  return appended;
}

/** Announces a change the test appended (the feed's side of an append). */
function announce(ctx: TopicContext, change: StoredChange | undefined): void {
  if (change === undefined) throw new Error('the test appended fewer changes');
  ctx.feed.announce(change);
}

describe('TopicGroup', () => {
  it('emits announced changes once and in order, reading a gap back from the store', async () => {
    const ctx = context();
    const group = new TopicGroup('k', 't', ctx);
    await group.ready;
    const seen: number[] = [];
    const member = { deliver: (seq: number) => seen.push(seq) };
    group.add(member);
    expect(group.join(member, 0)).toBe(true);

    const [c1, c2, c3, c4] = await appendQuietly(ctx, 4);
    announce(ctx, c3); // ahead of 1 and 2: the store is read from 1 on (4 included)
    await waitFor(() => seen.length === 4);
    announce(ctx, c1);
    announce(ctx, c2);
    announce(ctx, c4);
    announce(ctx, c4);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(group.lastSeq).toBe(4);
  });

  it('starts at the store head and ignores announcements of older changes', async () => {
    const ctx = context();
    const [old] = await appendQuietly(ctx, 3);
    const group = new TopicGroup('k', 't', ctx);
    await group.ready;
    expect(group.lastSeq).toBe(3);
    const seen: number[] = [];
    const member = { deliver: (seq: number) => seen.push(seq) };
    group.add(member);
    expect(group.join(member, 2)).toBe(false); // behind the group: must catch up first
    expect(group.join(member, 3)).toBe(true);
    announce(ctx, old);
    const [next] = await appendQuietly(ctx, 1);
    announce(ctx, next);
    expect(seen).toEqual([4]);
  });

  it('stops listening when closed', async () => {
    const ctx = context();
    const group = new TopicGroup('k', 't', ctx);
    await group.ready;
    const seen: number[] = [];
    const member = { deliver: (seq: number) => seen.push(seq) };
    group.add(member);
    group.join(member, 0);
    group.close();
    announce(ctx, (await appendQuietly(ctx, 1))[0]);
    expect(seen).toEqual([]);
  });
});

describe('TopicSubscription', () => {
  it('holds live changes while one more read closes the gap, then sends each change exactly once', async () => {
    const memory = createMemoryTopicStore();
    // Reads answer what the store held when they were called, but only when the test releases them.
    const pending: Array<() => void> = [];
    const store: TopicStore = {
      ...memory,
      read: async (topic, after, limit) => {
        const result = await memory.read(topic, after, limit);
        await new Promise<void>((resolve) => pending.push(resolve));
        return result;
      },
    };
    const ctx = context(store);
    await appendQuietly(ctx, 10);
    const group = new TopicGroup('k', 't', ctx);
    await group.ready;
    const client = recorder();
    const subscription = new TopicSubscription(client, group, 0, ctx);
    subscription.start();
    await waitFor(() => pending.length === 1); // reading 1..10

    for (const change of await appendQuietly(ctx, 2)) announce(ctx, change); // 11, 12 during the read
    pending.shift()!();
    await waitFor(() => pending.length === 1); // sent 1..10, now following and reading again
    expect(client.seqs).toEqual(range(1, 10));

    for (const change of await appendQuietly(ctx, 1)) announce(ctx, change); // 13: held
    expect(client.seqs).toEqual(range(1, 10));
    pending.shift()!(); // this read returns 11 and 12 (13 came after it started)
    await waitFor(() => client.seqs.length === 13);

    for (const change of await appendQuietly(ctx, 1)) announce(ctx, change); // 14: live
    expect(client.seqs).toEqual(range(1, 14));
    expect(ctx.counters.changesSent).toBe(14);
    subscription.stop();
    expect(group.size).toBe(0);
  });

  it('leaves the live changes while its socket is backed up and catches up from the store once it drains', async () => {
    const ctx = context();
    const group = new TopicGroup('k', 't', ctx);
    await group.ready;
    const client = recorder();
    const subscription = new TopicSubscription(client, group, 0, ctx);
    subscription.start();
    for (const change of await appendQuietly(ctx, 1)) announce(ctx, change);
    expect(client.seqs).toEqual([1]);

    client.bufferedAmount = MAX_SEND_BUFFER_BYTES + 1;
    for (const change of await appendQuietly(ctx, 3)) announce(ctx, change);
    expect(client.seqs).toEqual([1]); // nothing piles up in the server

    client.bufferedAmount = 0;
    await waitFor(() => client.seqs.length === 4);
    for (const change of await appendQuietly(ctx, 1)) announce(ctx, change);
    expect(client.seqs).toEqual([1, 2, 3, 4, 5]);
    subscription.stop();
  });
});
