import { describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors/index.js';
import type { TopicChange } from '../../../src/protocol/host-api.js';
import type { ChangeMessage, ServerMessage } from '../../../src/protocol/messages.js';
import type { RequestBody } from '../../../src/worker/server-connection.js';
import { createTopicCacheStore } from '../../../src/worker/topic-cache-store.js';
import { TopicSubscriptions, type TopicLink } from '../../../src/worker/topic-subscriptions.js';
import { HISTORY_CONNECT_WAIT_MS } from '../../../src/worker/topic-history.js';
import { systemClock, type Clock } from '../../../src/shared/clock.js';
import { FakeClock } from '../support/fake-clock.js';

/** A server stand-in: records subscribe requests and answers them. */
class FakeLink implements TopicLink {
  requests: RequestBody[] = [];
  unsubscribed: string[] = [];
  head = 0;
  refuse = false;
  /** The server's log for history requests. */
  log: number[] = [];
  async request(body: RequestBody): Promise<ServerMessage> {
    this.requests.push(body);
    if (this.refuse) throw new SessionError('FORBIDDEN', 'no');
    if (body.type === 'history') {
      const before = body.before ?? this.log.length + 1;
      const seqs = this.log.filter((seq) => seq < before).slice(-(body.limit ?? 50));
      const changes = seqs.map((seq) => ({ topic: body.topic, seq, data: { n: seq }, publishedAt: 1000 + seq }));
      return { type: 'history', id: 1, topic: body.topic, changes, hasMore: (seqs[0] ?? 1) > 1 };
    }
    if (body.type !== 'subscribe') throw new Error('unexpected');
    return { type: 'subscribed', id: 1, topic: body.topic, head: this.head };
  }
  send(message: { type: 'unsubscribe'; topic: string }): boolean {
    this.unsubscribed.push(message.topic);
    return true;
  }
}

const change = (seq: number, topic = 't'): ChangeMessage => ({
  type: 'change',
  topic,
  seq,
  data: { n: seq },
  publishedAt: 1000 + seq,
});

function setup(limit = 100, clock: Clock = systemClock) {
  const cache = createTopicCacheStore(undefined);
  const delivered = new Map<string, number[]>();
  const failures: string[] = [];
  const trims: string[] = [];
  const topics = new TopicSubscriptions(
    Promise.resolve(cache),
    {
      trimmed: (tabId: string, subId: string, after: number, first: number) =>
        void trims.push(`${tabId}/${subId}:${after}->${first}`),
      deliver: (tabId: string, subId: string, changes: TopicChange[]) => {
        const key = `${tabId}/${subId}`;
        delivered.set(key, [...(delivered.get(key) ?? []), ...changes.map((c) => c.seq)]);
      },
      fail: (_tabId: string, subId: string, code: string) => void failures.push(`${subId}:${code}`),
    },
    limit,
    clock,
  );
  topics.setUser('alice');
  return { topics, delivered, failures, cache, trims };
}

describe('TopicSubscriptions', () => {
  it('shares one server subscription between tabs and delivers every change to each once, in order', async () => {
    const { topics, delivered } = setup();
    const link = new FakeLink();
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    await topics.add('tab2', { subId: 'b', topic: 't' });
    await topics.add('tab3', { subId: 'c', topic: 't' });
    expect(link.requests).toEqual([{ type: 'subscribe', topic: 't', after: 0 }]);
    for (let seq = 1; seq <= 5; seq++) topics.onChange(change(seq));
    topics.onChange(change(3)); // a duplicate never reaches a tab
    for (const key of ['tab1/a', 'tab2/b', 'tab3/c']) expect(delivered.get(key)).toEqual([1, 2, 3, 4, 5]);
  });

  it('serves a late subscriber from the cache, then live', async () => {
    const { topics, delivered } = setup();
    const link = new FakeLink();
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 3; seq++) topics.onChange(change(seq));
    await topics.add('tab2', { subId: 'b', topic: 't' });
    topics.onChange(change(4));
    expect(delivered.get('tab2/b')).toEqual([1, 2, 3, 4]);
    expect(link.requests).toHaveLength(1);
  });

  it('resubscribes after a reconnect from its cursor only', async () => {
    const { topics } = setup();
    const first = new FakeLink();
    topics.onConnected(first);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 7; seq++) topics.onChange(change(seq));
    topics.onDisconnected();
    const second = new FakeLink();
    second.head = 17;
    topics.onConnected(second);
    expect(second.requests).toEqual([{ type: 'subscribe', topic: 't', after: 7 }]);
  });

  it('restores cursors and cache from storage for a new host of the same user', async () => {
    const { topics, cache } = setup();
    topics.onConnected(new FakeLink());
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 4; seq++) topics.onChange(change(seq));
    await topics.flush();

    const delivered: number[] = [];
    const restarted = new TopicSubscriptions(Promise.resolve(cache), {
      deliver: (_t, _s, changes) => delivered.push(...changes.map((c) => c.seq)),
      trimmed: () => undefined,
      fail: () => undefined,
    });
    restarted.setUser('alice');
    const link = new FakeLink();
    link.head = 4;
    restarted.onConnected(link);
    await restarted.add('tab9', { subId: 'z', topic: 't' });
    expect(delivered).toEqual([1, 2, 3, 4]);
    expect(link.requests).toEqual([{ type: 'subscribe', topic: 't', after: 4 }]);
  });

  it('never shows one user the cache of another', async () => {
    const { topics, cache } = setup();
    topics.onConnected(new FakeLink());
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 3; seq++) topics.onChange(change(seq));
    await topics.flush();
    expect((await cache.load('bob', 't', 10)).changes).toEqual([]);

    const delivered: number[] = [];
    const bobs = new TopicSubscriptions(Promise.resolve(cache), {
      deliver: (_t, _s, changes) => delivered.push(...changes.map((c) => c.seq)),
      trimmed: () => undefined,
      fail: () => undefined,
    });
    bobs.setUser('bob');
    const link = new FakeLink();
    bobs.onConnected(link);
    await bobs.add('tab1', { subId: 'b', topic: 't' });
    expect(delivered).toEqual([]);
    expect(link.requests).toEqual([{ type: 'subscribe', topic: 't', after: 0 }]);
  });

  it('asks the server for history older than the cache for an explicit since', async () => {
    const { topics, delivered } = setup(3);
    const link = new FakeLink();
    link.head = 6;
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 6; seq++) topics.onChange(change(seq)); // cache keeps 4..6
    await topics.add('tab2', { subId: 'b', topic: 't', since: 1 });
    expect(link.requests.at(-1)).toEqual({ type: 'subscribe', topic: 't', after: 1 });
    for (let seq = 2; seq <= 7; seq++) topics.onChange(change(seq)); // the server replays from 2
    expect(delivered.get('tab2/b')).toEqual([2, 3, 4, 5, 6, 7]);
    expect(delivered.get('tab1/a')).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('reports a refused subscription to every tab of the topic and delivers nothing', async () => {
    const { topics, delivered, failures } = setup();
    const link = new FakeLink();
    link.refuse = true;
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 'secret' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(failures).toEqual(['a:FORBIDDEN']);
    topics.onChange(change(1, 'secret'));
    expect(delivered.size).toBe(0);
  });

  it('drops the server subscription with the last tab', async () => {
    const { topics } = setup();
    const link = new FakeLink();
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    await topics.add('tab2', { subId: 'b', topic: 't' });
    topics.removeTab('tab1');
    expect(link.unsubscribed).toEqual([]);
    topics.remove('tab2', 'b');
    expect(link.unsubscribed).toEqual(['t']);
    expect(topics.stats()).toMatchObject({ topics: 0, tabSubscriptions: 0 });
  });

  it('starts over when the server log is shorter than the cursor', async () => {
    const { topics, delivered } = setup();
    const first = new FakeLink();
    topics.onConnected(first);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 5; seq++) topics.onChange(change(seq));
    topics.onDisconnected();
    const restarted = new FakeLink(); // an in-memory server that lost its log
    restarted.head = 2;
    topics.onConnected(restarted);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(restarted.requests.at(-1)).toEqual({ type: 'subscribe', topic: 't', after: 2 });
    topics.onChange({ ...change(3), data: { fresh: true } });
    expect(delivered.get('tab1/a')).toEqual([1, 2, 3, 4, 5, 3]);
  });
});

describe('TopicSubscriptions across sessions', () => {
  it('keeps every position when the same user starts again, so no tab gets a change twice', async () => {
    const { topics, delivered } = setup();
    topics.onConnected(new FakeLink());
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 3; seq++) topics.onChange(change(seq));
    topics.onDisconnected();
    topics.setUser(undefined); // endSession
    topics.setUser('alice'); // startSession again
    const link = new FakeLink();
    link.head = 4;
    topics.onConnected(link);
    expect(link.requests).toEqual([{ type: 'subscribe', topic: 't', after: 3 }]);
    topics.onChange(change(4));
    expect(delivered.get('tab1/a')).toEqual([1, 2, 3, 4]);
  });

  it('saves changes received just before the session ended under their user', async () => {
    const { topics, cache } = setup();
    topics.onConnected(new FakeLink());
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 3; seq++) topics.onChange(change(seq));
    topics.onDisconnected();
    topics.setUser('bob'); // another user signs in before the delayed save ran
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await cache.load('alice', 't', 10)).toMatchObject({ cursor: 3 });
    expect((await cache.load('bob', 't', 10)).changes).toEqual([]);
  });
});

describe('TopicSubscriptions history (spec §3 history)', () => {
  it('answers from the cache when it holds the whole range, without asking the server', async () => {
    const { topics } = setup();
    const link = new FakeLink();
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 30; seq++) topics.onChange(change(seq));
    const newest = await topics.history({ topic: 't', limit: 10 });
    expect(newest.changes.map((c) => c.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(newest.hasMore).toBe(true);
    const oldest = await topics.history({ topic: 't', before: 5, limit: 10 });
    expect(oldest).toMatchObject({ hasMore: false });
    expect(oldest.changes.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    expect(link.requests.filter((r) => r.type === 'history')).toEqual([]);
  });

  it('asks the server for a range the cache does not hold', async () => {
    const { topics } = setup(5); // a cache of 5 changes per topic
    const link = new FakeLink();
    link.log = Array.from({ length: 40 }, (_, i) => i + 1);
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 40; seq++) topics.onChange(change(seq));
    const page = await topics.history({ topic: 't', before: 20, limit: 3 });
    expect(page.changes.map((c) => [c.topic, c.seq])).toEqual([
      ['t', 17],
      ['t', 18],
      ['t', 19],
    ]);
    expect(link.requests.at(-1)).toEqual({ type: 'history', topic: 't', before: 20, limit: 3 });
  });

  it('refuses bad arguments with INVALID_ARGUMENT and an offline, uncached range with DISCONNECTED', async () => {
    const clock = new FakeClock();
    const { topics } = setup(100, clock);
    await expect(topics.history({ topic: 't', before: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(topics.history({ topic: 't', limit: 501 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(topics.history({ topic: 'a\u0007b' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const offline = topics.history({ topic: 't' }).catch((error: unknown) => error); // waits for a socket
    await clock.advance(HISTORY_CONNECT_WAIT_MS);
    expect(await offline).toMatchObject({ code: 'DISCONNECTED' });
  });
});

describe('TopicSubscriptions retention (HISTORY_TRIMMED)', () => {
  it('jumps past changes the server trimmed, tells each tab that misses them once, and goes on without resubscribing', async () => {
    const { topics, delivered, trims } = setup();
    const link = new FakeLink();
    topics.onConnected(link);
    await topics.add('tab1', { subId: 'a', topic: 't' });
    for (let seq = 1; seq <= 3; seq++) topics.onChange(change(seq));
    // After a long disconnect the server retains only from seq 50 on.
    topics.onTrimmed({ type: 'history-trimmed', topic: 't', after: 3, first: 50 });
    for (let seq = 50; seq <= 52; seq++) topics.onChange(change(seq));
    expect(trims).toEqual(['tab1/a:3->50']);
    expect(delivered.get('tab1/a')).toEqual([1, 2, 3, 50, 51, 52]);
    expect(
      link.requests.filter((r) => r.type === 'subscribe'),
      'no resubscribe loop',
    ).toHaveLength(1);
    expect(topics.inspect()[0]).toMatchObject({ cursor: 52 });
  });
});

describe('TopicSubscriptions history while connecting', () => {
  it('waits for the socket and then asks the server (a page mounted before the session connected)', async () => {
    const { topics } = setup();
    const link = new FakeLink();
    link.log = [1, 2, 3];
    const page = topics.history({ topic: 't', limit: 2 });
    topics.onConnected(link);
    expect((await page).changes.map((c) => c.seq)).toEqual([2, 3]);
  });

  it('refuses a history request without a session with NO_ACTIVE_SESSION', async () => {
    const { topics } = setup();
    topics.setUser(undefined);
    await expect(topics.history({ topic: 't' })).rejects.toMatchObject({ code: 'NO_ACTIVE_SESSION' });
  });
});
