import type { ChangeMessage } from '../../protocol/messages.js';
import { CATCH_UP_BATCH_SIZE, CATCH_UP_READ_BYTES, STORE_RETRY_MS } from '../constants.js';
import type { Logger } from '../logger.js';
import type { StoredChange, TopicStore } from '../store/topic-store.js';
import type { ChangeFeed } from './change-feed.js';
import type { OutgoingFrame } from '../transport/socket.js';

/** What a topic group and its subscriptions share with the server. */
export interface TopicContext {
  readonly store: TopicStore;
  readonly feed: ChangeFeed;
  readonly logger: Logger;
  /** Cumulative `change` frames sent, for `stats()`. */
  readonly counters: { changesSent: number };
  /** Unsent bytes a socket may hold before its live subscriptions fall back to the store. */
  readonly maxSendBufferBytes: number;
}

/** A member of a {@link TopicGroup}: receives the group's live changes once it caught up. */
export interface GroupMember {
  /** Called for every change the group emits while the member is live, in seq order. */
  deliver(seq: number, frame: OutgoingFrame): void;
}

/**
 * Serialises a stored change as the `change` frame sent to clients.
 *
 * @param change - a change read from or appended to the store
 */
export function changeFrame(change: StoredChange): string {
  const message: ChangeMessage = {
    type: 'change',
    topic: change.topic,
    seq: change.seq,
    data: change.data,
    publishedAt: change.publishedAt,
  };
  if (change.clientId !== undefined) message.clientId = change.clientId;
  return JSON.stringify(message);
}

/**
 * A `change` frame encoded once as UTF-8 for all the sockets it goes to (`ws` would encode a
 * string again for each of them).
 *
 * @param change - a change appended to the store
 */
function fanOutFrame(change: StoredChange): Buffer {
  return Buffer.from(changeFrame(change), 'utf8');
}

/**
 * One shared subscription: the connections reading one topic under one effective read
 * permission. The group listens to the {@link ChangeFeed} for its topic and emits every change
 * once, in seq order without gaps, serialising each frame once for all its live members.
 *
 * `lastSeq` is the group's cursor: every change up to it was stored before the group started or
 * was emitted; every later one will be emitted. A subscription catches up from the store until
 * its own position reaches `lastSeq`, then joins synchronously ({@link join}) — no emission can
 * fall between the check and the join, so the hand-over neither skips nor repeats a change. When
 * the group moved on during its last read, it {@link follow}s instead: it holds the live changes
 * while one more read fills the gap before them.
 *
 * Announcements may come twice, late or out of order (a network feed; or two appends of one
 * topic whose promises settle out of order): one at or below `lastSeq` is ignored, one ahead of
 * `lastSeq + 1` is held (up to {@link CATCH_UP_BATCH_SIZE} changes and the send-buffer bound in
 * bytes) and the gap read back from the store. A gap that retention dropped meanwhile is skipped:
 * live members see the jump and fall back to the store, which tells them `history-trimmed`.
 */
export class TopicGroup {
  /** Identifies the (topic, effective read permission) pair among the server's groups. */
  readonly key: string;
  readonly topic: string;
  /** Resolves once `lastSeq` is known (the store's head when the group started). */
  readonly ready: Promise<void>;
  readonly #context: TopicContext;
  readonly #members = new Set<GroupMember>();
  readonly #live = new Set<GroupMember>();
  /** Announced changes after `lastSeq + 1`, held until the gap before them is filled. */
  readonly #ahead = new Map<number, { change: StoredChange; frame: Buffer }>();
  #aheadBytes = 0;
  readonly #stopListening: () => void;
  #lastSeq = 0;
  #isReady = false;
  /** Highest seq announced: while above `lastSeq` there is a gap to fill. */
  #announced = 0;
  #filling = false;
  #closed = false;

  /**
   * @param key - identifies the group among the server's groups
   * @param topic - the topic
   * @param context - store, feed, logger and counters
   */
  constructor(key: string, topic: string, context: TopicContext) {
    this.key = key;
    this.topic = topic;
    this.#context = context;
    // Listen before reading the head: a change stored after the head was read is announced after this.
    this.#stopListening = context.feed.listen(topic, (change) => this.#onAnnounced(change));
    this.ready = context.store.head(topic).then((head) => {
      this.#lastSeq = Math.max(this.#lastSeq, head);
      this.#isReady = true;
      this.#advance();
    });
    this.ready.catch(() => {}); // awaited by every subscribe; an unhandled copy must not crash
  }

  /** Last seq emitted (or stored before the group started). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Members, live or catching up. */
  get size(): number {
    return this.#members.size;
  }

  /** Adds a member that will catch up on its own before it {@link join}s. */
  add(member: GroupMember): void {
    this.#members.add(member);
  }

  /** Removes a member. */
  remove(member: GroupMember): void {
    this.#members.delete(member);
    this.#live.delete(member);
  }

  /**
   * Makes a caught-up member live: from now on it gets every change after `lastSeq`.
   *
   * @param position - the last seq the member has sent
   * @returns `false` (and nothing changes) while the group is not ready or `position < lastSeq`
   */
  join(member: GroupMember, position: number): boolean {
    if (this.#closed || !this.#isReady || position < this.#lastSeq || !this.#members.has(member)) return false;
    this.#live.add(member);
    return true;
  }

  /**
   * Sends a member the live changes from now on, whatever its position: it holds them until it
   * has read the gap before them from the store.
   */
  follow(member: GroupMember): void {
    if (!this.#closed && this.#members.has(member)) this.#live.add(member);
  }

  /** Takes a member off the live changes (it fell behind and catches up from the store again). */
  leave(member: GroupMember): void {
    this.#live.delete(member);
  }

  /** Stops listening; called when the last member left. */
  close(): void {
    this.#closed = true;
    this.#stopListening();
    this.#ahead.clear();
    this.#aheadBytes = 0;
  }

  #onAnnounced(change: StoredChange): void {
    if (this.#closed || change.seq <= this.#lastSeq) return;
    this.#announced = Math.max(this.#announced, change.seq);
    // The store holds whatever is not kept here; a long gap is read back rather than buffered.
    if (
      !this.#ahead.has(change.seq) &&
      this.#ahead.size < CATCH_UP_BATCH_SIZE &&
      this.#aheadBytes < this.#context.maxSendBufferBytes
    ) {
      const frame = fanOutFrame(change);
      this.#ahead.set(change.seq, { change, frame });
      this.#aheadBytes += frame.length;
    }
    if (this.#isReady) this.#advance();
  }

  /** Emits the held changes that follow `lastSeq`; reads a remaining gap from the store. */
  #advance(): void {
    for (let next = this.#ahead.get(this.#lastSeq + 1); next !== undefined; next = this.#ahead.get(this.#lastSeq + 1)) {
      this.#dropAhead(next.change.seq);
      this.#emit(next.change, next.frame);
    }
    this.#dropPassed();
    if (this.#announced > this.#lastSeq && !this.#filling) void this.#fill();
  }

  /** Reads the changes between `lastSeq` and the highest announced one back from the store. */
  async #fill(): Promise<void> {
    this.#filling = true;
    try {
      while (!this.#closed && this.#announced > this.#lastSeq) {
        const batch = await this.#context.store.read(this.topic, this.#lastSeq, CATCH_UP_BATCH_SIZE, {
          maxBytes: CATCH_UP_READ_BYTES,
        });
        if (this.#closed) return;
        // Retention dropped the gap: go on from the first retained change.
        const first = batch[0];
        if (first !== undefined && first.seq > this.#lastSeq + 1) this.#lastSeq = first.seq - 1;
        // Changes announced meanwhile may already have been emitted: skip what is not next.
        for (const change of batch) if (change.seq === this.#lastSeq + 1) this.#emit(change);
        this.#dropPassed();
        // Not stored yet (a network feed ahead of the store): the next announcement retries.
        if (batch.length === 0) return;
      }
    } catch (error) {
      if (this.#closed) return;
      this.#context.logger.error(`topic ${JSON.stringify(this.topic)}: reading a gap failed: ${String(error)}`);
      setTimeout(() => {
        if (!this.#closed) this.#advance();
      }, STORE_RETRY_MS).unref();
    } finally {
      this.#filling = false;
    }
  }

  #dropAhead(seq: number): void {
    const held = this.#ahead.get(seq);
    if (held === undefined) return;
    this.#ahead.delete(seq);
    this.#aheadBytes -= held.frame.length;
  }

  /** Drops the held changes at or below `lastSeq`. */
  #dropPassed(): void {
    for (const seq of this.#ahead.keys()) if (seq <= this.#lastSeq) this.#dropAhead(seq);
  }

  #emit(change: StoredChange, serialised?: Buffer): void {
    this.#lastSeq = change.seq;
    if (this.#live.size === 0) return;
    const frame = serialised ?? fanOutFrame(change);
    for (const member of this.#live) member.deliver(change.seq, frame);
  }
}
