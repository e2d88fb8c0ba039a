import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { HistoryTrimmedMessage } from '../../protocol/messages.js';
import { CATCH_UP_BATCH_SIZE, CATCH_UP_BUFFER_BYTES, CATCH_UP_READ_BYTES, STORE_RETRY_MS } from '../constants.js';
import { drained } from './drain.js';
import { changeFrame, type GroupMember, type TopicContext, type TopicGroup } from './group.js';
import type { OutgoingFrame } from '../transport/socket.js';
import type { Subscriber } from './peer.js';

/**
 * - `catching-up`: reading the store; the group's live changes are not sent.
 * - `joining`: the group's live changes are held while one more store read closes the gap.
 * - `live`: the group's changes are sent as they come.
 */
type SubscriptionState = 'catching-up' | 'joining' | 'live';

/**
 * One connection's subscription to one topic: a member of the {@link TopicGroup} of its topic
 * and read permission.
 *
 * It first catches up from the store (every change after `after`, in batches of at most
 * {@link CATCH_UP_BATCH_SIZE} changes and {@link CATCH_UP_READ_BYTES} bytes; before **every**
 * change it checks the socket, and stops sending while more than {@link CATCH_UP_BUFFER_BYTES}
 * wait there, so a client that does not read costs at most that plus one change). When the store
 * no longer retains the changes right after its position, it sends `history-trimmed` and goes on
 * from the first retained change. When a read comes back short (the store had nothing
 * more) it joins the group's live changes: at once when it already sent everything the group
 * emitted; otherwise it holds the live changes while one more read fills the gap before them,
 * then sends the held ones that follow. A store whose reads take a round trip therefore still
 * hands over under a steady stream of publishes, and no change is skipped or sent twice.
 *
 * A live subscription whose socket has more than `maxSendBufferBytes` (`MAX_SEND_BUFFER_BYTES`)
 * waiting leaves the live changes and catches up again from the store at the client's pace
 * (rather than being closed: nothing is lost, no reconnect storm, and the server holds at most
 * the bound plus one change per socket).
 */
export class TopicSubscription implements GroupMember {
  readonly #connection: Subscriber;
  readonly group: TopicGroup;
  readonly #context: TopicContext;
  /** Last seq sent to the client. */
  #position: number;
  #state: SubscriptionState = 'catching-up';
  /** Live changes held while `joining`: contiguous seqs and their frames. */
  #held: Array<{ seq: number; frame: OutgoingFrame }> = [];
  #heldBytes = 0;
  #active = true;
  #running = false;

  /**
   * @param connection - the subscriber
   * @param group - the shared subscription it belongs to (it adds itself)
   * @param after - the seq to start after
   * @param context - store, logger and counters
   */
  constructor(connection: Subscriber, group: TopicGroup, after: number, context: TopicContext) {
    this.#connection = connection;
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
    this.#dropHeld();
    this.group.remove(this);
  }

  deliver(seq: number, frame: OutgoingFrame): void {
    if (this.#state === 'joining') {
      this.#held.push({ seq, frame });
      this.#heldBytes += frame.length;
      // Far behind after all: stop holding, catch up from the store and try again later.
      if (this.#held.length > CATCH_UP_BATCH_SIZE || this.#heldBytes > this.#context.maxSendBufferBytes)
        this.#fallBack();
      return;
    }
    if (seq <= this.#position) return; // already read from the store while catching up
    if (seq !== this.#position + 1 || this.#connection.bufferedAmount > this.#context.maxSendBufferBytes) {
      this.#fallBack();
      void this.#catchUp();
      return;
    }
    this.#send(seq, frame);
  }

  #send(seq: number, frame: OutgoingFrame): void {
    this.#connection.sendText(frame);
    this.#position = seq;
    this.#context.counters.changesSent++;
  }

  /** The store dropped the changes after the position: say so, then go on from `first`. */
  #trimmed(first: number): void {
    const message: HistoryTrimmedMessage = {
      type: 'history-trimmed',
      topic: this.group.topic,
      after: this.#position,
      first,
    };
    this.#connection.sendText(JSON.stringify(message));
    this.#position = first - 1;
    // Held live changes are still contiguous after the new position, or older and dropped.
  }

  #fallBack(): void {
    this.group.leave(this);
    this.#state = 'catching-up';
    this.#dropHeld();
  }

  #dropHeld(): void {
    this.#held = [];
    this.#heldBytes = 0;
  }

  /** While `joining`: sends the held changes once they follow on from the position. */
  #tryFinishJoin(): boolean {
    const held = this.#held.filter(({ seq }) => seq > this.#position); // held seqs are contiguous
    const first = held[0];
    if (first !== undefined && first.seq !== this.#position + 1) return false; // the gap is still open
    this.#state = 'live';
    this.#dropHeld();
    for (const { seq, frame } of held) this.#send(seq, frame);
    return true;
  }

  async #catchUp(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { store, logger } = this.#context;
    const topic = this.group.topic;
    try {
      while (this.#active && this.#state !== 'live') {
        if (this.#state === 'catching-up' && this.group.join(this, this.#position)) {
          this.#state = 'live';
          return;
        }
        if (this.#connection.bufferedAmount > CATCH_UP_BUFFER_BYTES) {
          this.#fallBack(); // do not hold live changes for a client that is not reading
          await drained(this.#connection, CATCH_UP_BUFFER_BYTES, () => !this.#active);
          continue;
        }
        let batch;
        try {
          batch = await store.read(topic, this.#position, CATCH_UP_BATCH_SIZE, { maxBytes: CATCH_UP_READ_BYTES });
        } catch (error) {
          if (!this.#active) return;
          logger.error(`topic ${JSON.stringify(topic)}: catch-up read failed, retrying: ${String(error)}`);
          this.#fallBack();
          await sleep(STORE_RETRY_MS, undefined, { ref: false });
          continue;
        }
        if (!this.#active) return;
        const first = batch[0];
        if (first !== undefined && first.seq > this.#position + 1) this.#trimmed(first.seq);
        let sent = 0;
        let sentBytes = 0;
        for (const change of batch) {
          if (change.seq !== this.#position + 1) break; // a store keeps seqs contiguous; never send a gap
          // Per change, not per batch: a client that stopped reading gets nothing more.
          if (this.#connection.bufferedAmount > CATCH_UP_BUFFER_BYTES) break;
          const frame = changeFrame(change);
          this.#send(change.seq, frame);
          sent++;
          sentBytes += frame.length;
        }
        if (sent < batch.length) continue; // the socket filled up: wait for it, then read on
        if (this.#state === 'joining' && this.#tryFinishJoin()) return;
        if (batch.length === 0 && this.group.lastSeq > this.#position) {
          // The group emitted changes the store does not return: a store that lost data.
          logger.error(`topic ${JSON.stringify(topic)}: the store returned nothing after ${this.#position}; retrying`);
          this.#fallBack();
          await sleep(STORE_RETRY_MS, undefined, { ref: false });
        } else if (batch.length === CATCH_UP_BATCH_SIZE || sentBytes >= CATCH_UP_READ_BYTES) {
          // A full batch (by count or by bytes: the store stopped early) means more to read.
          // More to read. Let other sockets' frames in between (a memory store never waits on I/O).
          await yieldToEventLoop(undefined, { ref: false });
        } else if (this.#state === 'catching-up') {
          if (this.group.join(this, this.#position)) {
            this.#state = 'live';
            return;
          }
          // The group emitted changes during the read: hold the live ones from now on; the next
          // read returns everything before them.
          this.group.follow(this);
          this.#state = 'joining';
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
