import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import {
  CATCH_UP_BATCH_SIZE,
  CATCH_UP_BUFFER_BYTES,
  DRAIN_POLL_MS,
  MAX_SEND_BUFFER_BYTES,
  STORE_RETRY_MS,
} from './constants.js';
import { changeFrame, type GroupMember, type TopicContext, type TopicGroup } from './topic-group.js';

/** The part of a connection a subscription writes to; a `Connection` satisfies it. */
export interface Subscriber {
  /** Sends one serialised server message. */
  sendText(text: string): void;
  /** Bytes sent but not yet written to the network. */
  readonly bufferedAmount: number;
}

/**
 * One connection's subscription to one topic: a member of the {@link TopicGroup} of its topic
 * and read permission. It first catches up from the store (every change after `after`, in
 * batches of {@link CATCH_UP_BATCH_SIZE}, pausing while the socket has more than
 * {@link CATCH_UP_BUFFER_BYTES} waiting), then joins the group's live changes. A live subscription
 * whose socket has more than {@link MAX_SEND_BUFFER_BYTES} waiting leaves the live changes and
 * catches up again at the client's pace, so a slow client neither loses changes nor holds memory.
 */
export class TopicSubscription implements GroupMember {
  readonly connection: Subscriber;
  readonly group: TopicGroup;
  readonly #context: TopicContext;
  /** Last seq sent to the client. */
  #position: number;
  #active = true;
  #catchingUp = false;

  /**
   * @param connection - the subscriber
   * @param group - the shared subscription it belongs to (it adds itself)
   * @param after - the seq to start after
   * @param context - store, logger and counters
   */
  constructor(connection: Subscriber, group: TopicGroup, after: number, context: TopicContext) {
    this.connection = connection;
    this.group = group;
    this.#position = after;
    this.#context = context;
    group.add(this);
  }

  /** Whether it still sends (not replaced, unsubscribed or disconnected). */
  get active(): boolean {
    return this.#active;
  }

  /** Starts sending: catch-up, then live. Call after the `subscribed` answer went out. */
  start(): void {
    void this.#catchUp();
  }

  /** Stops sending for good and leaves the group. */
  stop(): void {
    this.#active = false;
    this.group.remove(this);
  }

  deliver(seq: number, frame: string): void {
    if (seq <= this.#position) return; // already read from the store while catching up
    if (seq !== this.#position + 1 || this.connection.bufferedAmount > MAX_SEND_BUFFER_BYTES) {
      this.group.leave(this);
      void this.#catchUp();
      return;
    }
    this.connection.sendText(frame);
    this.#position = seq;
    this.#context.counters.changesSent++;
  }

  async #catchUp(): Promise<void> {
    if (this.#catchingUp) return;
    this.#catchingUp = true;
    const { store, logger, counters } = this.#context;
    const topic = this.group.topic;
    try {
      while (this.#active) {
        if (this.group.join(this, this.#position)) return;
        if (this.connection.bufferedAmount > CATCH_UP_BUFFER_BYTES) {
          await sleep(DRAIN_POLL_MS, undefined, { ref: false });
          continue;
        }
        let batch;
        try {
          batch = await store.read(topic, this.#position, CATCH_UP_BATCH_SIZE);
        } catch (error) {
          if (!this.#active) return;
          logger.error(`topic ${JSON.stringify(topic)}: catch-up read failed, retrying: ${String(error)}`);
          await sleep(STORE_RETRY_MS, undefined, { ref: false });
          continue;
        }
        if (!this.#active) return;
        let sent = 0;
        for (const change of batch) {
          if (change.seq !== this.#position + 1) break; // a store keeps seqs contiguous; never send a gap
          this.connection.sendText(changeFrame(change));
          this.#position = change.seq;
          sent++;
        }
        counters.changesSent += sent;
        // Let other sockets' frames in between batches: a memory store's read never waits on I/O.
        if (sent > 0) await yieldToEventLoop(undefined, { ref: false });
        if (sent === 0 && !this.group.join(this, this.#position)) {
          // The group is ahead of what the store returns: a store that lost or reordered data.
          logger.error(`topic ${JSON.stringify(topic)}: the store returned nothing after ${this.#position}; retrying`);
          await sleep(STORE_RETRY_MS, undefined, { ref: false });
        }
      }
    } finally {
      this.#catchingUp = false;
    }
  }
}
