import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import {
  CATCH_UP_BUFFER_BYTES,
  createLocalChangeFeed,
  createMemoryTopicStore,
  DEFAULT_LIMITS,
  MAX_SEND_BUFFER_BYTES,
} from '../../../src/server/index.js';
import { compilePermissions } from '../../../src/server/topics/permissions.js';
import type { TopicPeer } from '../../../src/server/topics/peer.js';
import { TopicService } from '../../../src/server/topics/service.js';
import { waitFor } from '../server/helpers.js';

// Issue 10, "any signed-in user can kill the server": 32 sockets of one user subscribe to a topic
// of 256 KiB changes and never read. Before, a catch-up batch of 500 changes went out at once
// (125 MiB per socket). The peers here count what the server handed their socket and never drain
// unless told to; the bound is asserted in bytes.

const CHANGE = 'x'.repeat(256 * 1024 - 64);
const silent = { info() {}, warn() {}, error() {} };

/** A connection whose socket keeps everything it was given until `drain()`. */
function peer(userId: string) {
  const frames: ServerMessage[] = [];
  const state = { buffered: 0, reading: false, largestBuffered: 0 };
  const self: TopicPeer & { frames: ServerMessage[]; state: typeof state; seqs(): number[] } = {
    session: { userId, roles: [] },
    get bufferedAmount() {
      return state.buffered;
    },
    sendText(frame) {
      const text = frame.toString();
      frames.push(JSON.parse(text) as ServerMessage);
      if (!state.reading) state.buffered += text.length;
      state.largestBuffered = Math.max(state.largestBuffered, state.buffered);
    },
    send(message) {
      self.sendText(JSON.stringify(message));
    },
    sendError(id, code, message) {
      self.send(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
    },
    frames,
    state,
    seqs: () => frames.flatMap((frame) => (frame.type === 'change' ? [frame.seq] : [])),
  };
  return self;
}

function service() {
  const store = createMemoryTopicStore();
  const topics = new TopicService({
    store,
    feed: createLocalChangeFeed(),
    access: compilePermissions(undefined),
    logger: silent,
    maxChangeBytes: DEFAULT_LIMITS.retention.maxBytes,
    limits: { ...DEFAULT_LIMITS, publishBytesPerSecond: 1 << 30, publishBytesBurst: 1 << 30 },
  });
  return { store, topics };
}

describe('per-change backpressure', () => {
  it('never hands a non-reading subscriber more than the catch-up bound plus one change, while a healthy one gets all', async () => {
    const { topics } = service();
    for (let n = 1; n <= 64; n++) await topics.publish('big', { n, CHANGE });
    const stalled = Array.from({ length: 32 }, () => peer('mallory'));
    const healthy = peer('alice');
    healthy.state.reading = true;
    for (const p of [...stalled, healthy]) await topics.handle(p, { type: 'subscribe', id: 1, topic: 'big', after: 0 });
    await waitFor(() => healthy.seqs().length === 64);
    const frameBytes = JSON.stringify({
      type: 'change',
      topic: 'big',
      seq: 64,
      data: { n: 64, CHANGE },
      publishedAt: 0,
    }).length;
    for (const p of stalled) {
      expect(p.state.largestBuffered).toBeLessThanOrEqual(CATCH_UP_BUFFER_BYTES + frameBytes);
      expect(p.seqs().length).toBeLessThan(8);
    }
    // Live changes: the stalled ones stay behind (they would catch up from the store), the healthy one is live.
    for (let n = 65; n <= 96; n++) await topics.publish('big', { n, CHANGE });
    await waitFor(() => healthy.seqs().length === 96);
    expect(healthy.seqs()).toEqual(Array.from({ length: 96 }, (_, i) => i + 1));
    for (const p of stalled) expect(p.state.largestBuffered).toBeLessThanOrEqual(MAX_SEND_BUFFER_BYTES + frameBytes);
    for (const p of [...stalled, healthy]) topics.disconnected(p);
  });

  it('sends a stalled subscriber everything, in order and once, after it reads again', async () => {
    const { topics } = service();
    for (let n = 1; n <= 20; n++) await topics.publish('big', { n, CHANGE });
    const slow = peer('bob');
    await topics.handle(slow, { type: 'subscribe', id: 1, topic: 'big', after: 0 });
    await waitFor(() => slow.seqs().length > 0);
    const before = slow.seqs().length;
    expect(before).toBeLessThan(20);
    slow.state.reading = true;
    slow.state.buffered = 0;
    for (let n = 21; n <= 25; n++) await topics.publish('big', { n, CHANGE });
    await waitFor(() => slow.seqs().length === 25);
    expect(slow.seqs()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    topics.disconnected(slow);
  });
});
