import type { SessionErrorCode } from '../../protocol/error-codes.js';
import type { HistoryRequestMessage, JsonValue, PublishMessage, SubscribeMessage } from '../../protocol/messages.js';
import { exceedsJsonDepth } from '../../protocol/parse.js';
import { validateTopicName } from '../../protocol/topic-name.js';
import { measureJson } from '../../shared/json-size.js';
import type { ServerLimits } from '../limits.js';
import type { Logger } from '../logger.js';
import type { StoredChange, TopicStore } from '../store/topic-store.js';
import type { ChangeFeed } from './change-feed.js';
import { drained } from './drain.js';
import { TopicGroup, type TopicContext } from './group.js';
import { readHistory } from './history.js';
import type { TopicPeer, TopicMessage } from './peer.js';
import type { TopicAccess } from './permissions.js';
import { PublishQuota } from './quota.js';
import { TopicSubscription } from './subscription.js';

/**
 * Publishes of one connection whose appends may wait for their commits at once (the session host
 * pipelines up to 64): a durable store commits them together (group commit) instead of one commit
 * per round trip. Past it the connection's next frame waits for the oldest answer.
 */
export const MAX_PIPELINED_PUBLISHES = 64;

/**
 * Bytes of change data (JSON) that one connection's pipelined publishes may hold at once; a single
 * larger publish still goes alone. Bounds what a connection keeps in memory beyond its queued frames.
 */
export const MAX_PIPELINED_PUBLISH_BYTES = 1024 * 1024;

/** The answers a connection is owed, in frame order: each sent after the one before it. */
interface AnswerQueue {
  /** Pending answers, oldest first; each settles after its predecessor. */
  readonly answers: Promise<void>[];
  /** Bytes of data of the publishes among them. */
  bytes: number;
}

/** What a {@link TopicService} is built from. */
export interface TopicServiceOptions {
  store: TopicStore;
  feed: ChangeFeed;
  access: TopicAccess;
  logger: Logger;
  /** Largest `data` in UTF-8 bytes of JSON. */
  maxChangeBytes: number;
  /** Subscriptions per connection, history, publish quota, send buffers, JSON depth. */
  limits: Pick<
    ServerLimits,
    | 'maxSubscriptionsPerConnection'
    | 'historyLimit'
    | 'maxHistoryLimit'
    | 'publishBytesPerSecond'
    | 'publishBytesBurst'
    | 'maxSendBufferBytes'
    | 'maxJsonDepth'
  >;
}

/** The data-plane part of `stats()`. */
export interface TopicStats {
  /** Connection-level topic subscriptions (catching up or live). */
  subscriptions: number;
  /** Shared fan-out groups: one per (topic, effective read permission) with subscribers. */
  topics: number;
  /** `change` frames sent since the server started (catch-up and live). */
  changesSent: number;
  /** Changes appended since the server started (duplicates excluded). */
  changesStored: number;
}

/**
 * The data plane (spec §6): `subscribe`, `unsubscribe` and `publish` of every connection, the
 * shared fan-out groups, and `server.publish`.
 *
 * - `subscribe`: read permission, then `subscribed {head}`, then every change after `after` (from
 *   the store), then live ones. A second `subscribe` of a topic on one connection replaces the first.
 * - `publish`: write permission, size limit, the user's storage quota, `store.append` with the
 *   clientId (a duplicate is answered with the original seq and not fanned out again),
 *   `published`, then the change is announced on the {@link ChangeFeed}, from which every group
 *   of the topic emits it. Publishes are pipelined: `handle` resolves as soon as the append was
 *   handed to the store (which numbers a topic's appends in call order), so the connection's next
 *   publish joins the same group commit; the `published` answers still go out in frame order,
 *   each after its commit ({@link TopicService.settled} tells the connection when they are all
 *   out). At most {@link MAX_PIPELINED_PUBLISHES} (and {@link MAX_PIPELINED_PUBLISH_BYTES}) wait
 *   per connection.
 * - `history`: read permission, then one page of older changes ({@link readHistory}), sent once
 *   the socket drained below its send-buffer bound.
 */
export class TopicService {
  readonly #options: TopicServiceOptions;
  readonly #context: TopicContext;
  readonly #counters = { changesSent: 0, changesStored: 0 };
  /** Groups by `grant NUL topic` (a topic never contains NUL). */
  readonly #groups = new Map<string, TopicGroup>();
  readonly #byConnection = new Map<TopicPeer, Map<string, TopicSubscription>>();
  /** Connections that went away: a history answer waiting for their socket to drain gives up. */
  readonly #gone = new WeakSet<TopicPeer>();
  readonly #quota: PublishQuota;
  /** Answers owed per connection, while any is pending. */
  readonly #owed = new Map<TopicPeer, AnswerQueue>();
  #subscriptions = 0;

  /** @param options - store, feed, permissions, logger, limits */
  constructor(options: TopicServiceOptions) {
    this.#options = options;
    const { store, feed, logger, limits } = options;
    const { maxSendBufferBytes } = limits;
    this.#context = { store, feed, logger, counters: this.#counters, maxSendBufferBytes };
    this.#quota = new PublishQuota(limits.publishBytesPerSecond, limits.publishBytesBurst);
  }

  /** Counters for `stats()`. */
  stats(): TopicStats {
    return {
      subscriptions: this.#subscriptions,
      topics: this.#groups.size,
      changesSent: this.#counters.changesSent,
      changesStored: this.#counters.changesStored,
    };
  }

  /**
   * Handles one topic message of an authenticated connection; answers go through `connection`.
   *
   * @param connection - the sender
   * @param message - `subscribe`, `unsubscribe` or `publish`
   */
  handle(connection: TopicPeer, message: TopicMessage): void | Promise<void> {
    // A frame that waited for earlier answers may run after its socket closed: nothing to do.
    if (this.#gone.has(connection)) return;
    switch (message.type) {
      case 'subscribe':
        return this.#subscribe(connection, message);
      case 'unsubscribe':
        return this.#unsubscribe(connection, message.topic);
      case 'publish':
        return this.#publish(connection, message);
      case 'history':
        return this.#history(connection, message);
    }
  }

  /**
   * Resolves once every answer to the topic messages `connection` sent so far went out, or
   * `undefined` when none is pending: a connection awaits it before it answers any frame of its
   * own (`pong`, `token-updated`, errors), so that answers keep the frames' order.
   *
   * @param connection - the sender
   */
  settled(connection: TopicPeer): Promise<void> | undefined {
    return this.#owed.get(connection)?.answers.at(-1);
  }

  /**
   * Drops the subscriptions of a connection that went away.
   *
   * @param connection - the closed connection
   */
  disconnected(connection: TopicPeer): void {
    this.#gone.add(connection);
    const subscriptions = this.#byConnection.get(connection);
    if (subscriptions === undefined) return;
    this.#byConnection.delete(connection);
    for (const subscription of subscriptions.values()) this.#release(subscription);
  }

  /**
   * Appends a change as the server (no permission check, no clientId) and fans it out.
   *
   * @throws TypeError for a topic the protocol would refuse or data that is not JSON; RangeError
   *   for data over `maxChangeBytes`; the store's error when the append fails
   */
  async publish(topic: string, data: JsonValue): Promise<{ seq: number }> {
    const problem = validateTopicName(topic);
    if (problem !== undefined) throw new TypeError(problem);
    const measured = measureJson(data);
    if (!measured.ok) throw new TypeError(measured.reason, { cause: measured.cause });
    const { json, bytes } = measured;
    if (bytes > this.#options.maxChangeBytes) {
      throw new RangeError(`"data" is ${bytes} bytes of JSON; the limit is ${this.#options.maxChangeBytes}`);
    }
    // Clients parse change frames too: no deeper than a client's own publish may be.
    const maxDepth = this.#options.limits.maxJsonDepth - 1;
    if (exceedsJsonDepth(json, maxDepth)) throw new TypeError(`"data" is nested deeper than ${maxDepth} levels`);
    // A copy, so that what subscribers receive is what was stored even if the caller mutates `data`.
    const { change, duplicate } = await this.#options.store.append(topic, JSON.parse(json) as JsonValue);
    if (!duplicate) this.#stored(change);
    return { seq: change.seq };
  }

  async #subscribe(connection: TopicPeer, { id, topic, after }: SubscribeMessage): Promise<void> {
    const session = connection.session;
    if (session === undefined) return;
    const grant = this.#options.access.readGrant(topic, session);
    if (grant === undefined) {
      return connection.sendError(id, 'FORBIDDEN', `not allowed to read topic ${JSON.stringify(topic)}`);
    }
    const current = this.#byConnection.get(connection);
    const max = this.#options.limits.maxSubscriptionsPerConnection;
    if (current !== undefined && !current.has(topic) && current.size >= max) {
      return connection.sendError(id, 'TOO_MANY_SUBSCRIPTIONS', `a connection may subscribe to at most ${max} topics`);
    }
    const subscription = new TopicSubscription(connection, this.#groupFor(topic, grant), after, this.#context);
    this.#attach(connection, topic, subscription);
    let head: number;
    try {
      await subscription.group.ready;
      head = await this.#options.store.head(topic);
    } catch (error) {
      this.#options.logger.error(`topic ${JSON.stringify(topic)}: subscribe failed: ${String(error)}`);
      if (this.#detach(connection, topic, subscription)) {
        connection.sendError(id, 'INTERNAL', 'the topic store failed; retrying may work');
      }
      return;
    }
    if (!subscription.active) return; // the socket closed meanwhile
    connection.send({ type: 'subscribed', id, topic, head });
    subscription.start();
  }

  #unsubscribe(connection: TopicPeer, topic: string): void {
    const subscription = this.#byConnection.get(connection)?.get(topic);
    if (subscription !== undefined) this.#detach(connection, topic, subscription);
  }

  #publish(connection: TopicPeer, message: PublishMessage): void | Promise<void> {
    const owed = this.#owed.get(connection);
    if (
      owed === undefined ||
      (owed.answers.length < MAX_PIPELINED_PUBLISHES && owed.bytes < MAX_PIPELINED_PUBLISH_BYTES)
    )
      return this.#startPublish(connection, message);
    // Full: wait for the oldest answer (this frame, and the socket's next ones, wait meanwhile).
    return owed.answers[0]?.then(() => this.#startPublish(connection, message));
  }

  /** Checks a publish and hands it to the store; its answer is queued behind the connection's earlier ones. */
  #startPublish(connection: TopicPeer, { id, topic, clientId, data }: PublishMessage): void {
    const session = connection.session;
    if (session === undefined) return;
    const refuse = (code: SessionErrorCode, message: string): void =>
      this.#answer(connection, 0, () => connection.sendError(id, code, message));
    if (!this.#options.access.canWrite(topic, session)) {
      return refuse('FORBIDDEN', `not allowed to publish to topic ${JSON.stringify(topic)}`);
    }
    // Parsed from JSON, so only nesting deeper than the stack allows can fail here.
    const measured = measureJson(data);
    if (!measured.ok) return refuse('BAD_MESSAGE', '"data" is nested too deeply');
    const { bytes } = measured;
    if (bytes > this.#options.maxChangeBytes) {
      return refuse(
        'PAYLOAD_TOO_LARGE',
        `"data" is ${bytes} bytes of JSON; the limit is ${this.#options.maxChangeBytes}`,
      );
    }
    if (!this.#quota.take(session.userId, bytes)) {
      return refuse('RATE_LIMITED', 'storage quota exceeded: publish less data per second');
    }
    // Called now, in frame order: the store numbers a topic's appends in call order.
    const appended = this.#options.store.append(topic, data, { clientId });
    this.#answer(connection, bytes, async () => {
      let result;
      try {
        result = await appended;
      } catch (error) {
        this.#options.logger.error(`topic ${JSON.stringify(topic)}: append failed: ${String(error)}`);
        return connection.sendError(id, 'INTERNAL', 'the topic store failed; retrying may work');
      }
      const { change, duplicate } = result;
      connection.send({ type: 'published', id, topic, seq: change.seq, duplicate });
      if (!duplicate) this.#stored(change);
    });
  }

  /**
   * Sends an answer after the connection's earlier ones: at once when none is pending and `send`
   * is synchronous, else queued.
   *
   * @param connection - who is answered
   * @param bytes - data bytes the answer holds until it is sent
   * @param send - sends the answer (after awaiting what it needs)
   */
  #answer(connection: TopicPeer, bytes: number, send: () => void | Promise<void>): void {
    let owed = this.#owed.get(connection);
    const previous = owed?.answers.at(-1);
    let sent: void | Promise<void>;
    if (previous === undefined) {
      sent = send();
      if (!(sent instanceof Promise)) return;
    } else {
      sent = previous.then(send);
    }
    if (owed === undefined) this.#owed.set(connection, (owed = { answers: [], bytes: 0 }));
    const queue = owed;
    queue.bytes += bytes;
    const done = sent
      .catch((error: unknown) => this.#options.logger.error(`publish answer failed: ${String(error)}`))
      .finally(() => {
        // Answers settle in order: the one settling is the oldest.
        void queue.answers.shift();
        queue.bytes -= bytes;
        if (queue.answers.length === 0 && this.#owed.get(connection) === queue) this.#owed.delete(connection);
      });
    queue.answers.push(done);
  }

  async #history(connection: TopicPeer, request: HistoryRequestMessage): Promise<void> {
    const session = connection.session;
    if (session === undefined) return;
    const { id, topic } = request;
    if (this.#options.access.readGrant(topic, session) === undefined) {
      return connection.sendError(id, 'FORBIDDEN', `not allowed to read topic ${JSON.stringify(topic)}`);
    }
    let answer;
    try {
      answer = await readHistory(this.#options.store, request, this.#options.limits);
    } catch (error) {
      this.#options.logger.error(`topic ${JSON.stringify(topic)}: history read failed: ${String(error)}`);
      return connection.sendError(id, 'INTERNAL', 'the topic store failed; retrying may work');
    }
    // An answer waits for a client that is not reading: requests it keeps sending wait behind it.
    const bound = this.#options.limits.maxSendBufferBytes;
    if (await drained(connection, bound, () => this.#gone.has(connection))) connection.send(answer);
  }

  #stored(change: StoredChange): void {
    this.#counters.changesStored++;
    this.#options.feed.announce(change);
  }

  #groupFor(topic: string, grant: string): TopicGroup {
    const key = `${grant}\u0000${topic}`;
    const existing = this.#groups.get(key);
    if (existing !== undefined) return existing;
    const group = new TopicGroup(key, topic, this.#context);
    this.#groups.set(key, group);
    // A group whose head could not be read is not reused: the next subscribe starts a fresh one.
    group.ready.catch(() => {
      if (this.#groups.get(key) === group) this.#groups.delete(key);
    });
    return group;
  }

  /** Registers a subscription, replacing the connection's previous one of the topic. */
  #attach(connection: TopicPeer, topic: string, subscription: TopicSubscription): void {
    let subscriptions = this.#byConnection.get(connection);
    if (subscriptions === undefined) this.#byConnection.set(connection, (subscriptions = new Map()));
    const previous = subscriptions.get(topic);
    subscriptions.set(topic, subscription);
    this.#subscriptions++;
    // Released after the new one joined, so that a shared group survives the replacement.
    if (previous !== undefined) this.#release(previous);
  }

  /** Removes a subscription if it is still the connection's current one; returns whether it was. */
  #detach(connection: TopicPeer, topic: string, subscription: TopicSubscription): boolean {
    const subscriptions = this.#byConnection.get(connection);
    if (subscriptions?.get(topic) !== subscription) return false;
    subscriptions.delete(topic);
    if (subscriptions.size === 0) this.#byConnection.delete(connection);
    this.#release(subscription);
    return true;
  }

  /** Stops a subscription and drops its group when it was the last member. */
  #release(subscription: TopicSubscription): void {
    if (!subscription.active) return;
    subscription.stop();
    this.#subscriptions--;
    const { group } = subscription;
    if (group.size > 0) return;
    group.close();
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
  }
}
