import type { JsonValue, PublishMessage, SubscribeMessage } from '../../protocol/messages.js';
import { validateTopicName } from '../../protocol/topic-name.js';
import { measureJson } from '../../shared/json-size.js';
import type { Logger } from '../logger.js';
import type { StoredChange, TopicStore } from '../store/topic-store.js';
import type { ChangeFeed } from './change-feed.js';
import { TopicGroup, type TopicContext } from './group.js';
import type { TopicPeer, TopicMessage } from './peer.js';
import type { TopicAccess } from './permissions.js';
import { TopicSubscription } from './subscription.js';

/** What a {@link TopicService} is built from. */
export interface TopicServiceOptions {
  store: TopicStore;
  feed: ChangeFeed;
  access: TopicAccess;
  logger: Logger;
  /** Largest `data` in UTF-8 bytes of JSON. */
  maxChangeBytes: number;
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
 * - `publish`: write permission, size limit, `store.append` with the clientId (a duplicate is
 *   answered with the original seq and not fanned out again), `published`, then the change is
 *   announced on the {@link ChangeFeed}, from which every group of the topic emits it.
 */
export class TopicService {
  readonly #options: TopicServiceOptions;
  readonly #context: TopicContext;
  readonly #counters = { changesSent: 0, changesStored: 0 };
  /** Groups by `grant NUL topic` (a topic never contains NUL). */
  readonly #groups = new Map<string, TopicGroup>();
  readonly #byConnection = new Map<TopicPeer, Map<string, TopicSubscription>>();
  #subscriptions = 0;

  /** @param options - store, feed, permissions, logger, limits */
  constructor(options: TopicServiceOptions) {
    this.#options = options;
    this.#context = { store: options.store, feed: options.feed, logger: options.logger, counters: this.#counters };
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
    switch (message.type) {
      case 'subscribe':
        return this.#subscribe(connection, message);
      case 'unsubscribe':
        return this.#unsubscribe(connection, message.topic);
      case 'publish':
        return this.#publish(connection, message);
    }
  }

  /**
   * Drops the subscriptions of a connection that went away.
   *
   * @param connection - the closed connection
   */
  disconnected(connection: TopicPeer): void {
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

  async #publish(connection: TopicPeer, { id, topic, clientId, data }: PublishMessage): Promise<void> {
    const session = connection.session;
    if (session === undefined) return;
    if (!this.#options.access.canWrite(topic, session)) {
      return connection.sendError(id, 'FORBIDDEN', `not allowed to publish to topic ${JSON.stringify(topic)}`);
    }
    // Parsed from JSON, so only nesting deeper than the stack allows can fail here.
    const measured = measureJson(data);
    if (!measured.ok) return connection.sendError(id, 'BAD_MESSAGE', '"data" is nested too deeply');
    const { bytes } = measured;
    if (bytes > this.#options.maxChangeBytes) {
      return connection.sendError(
        id,
        'PAYLOAD_TOO_LARGE',
        `"data" is ${bytes} bytes of JSON; the limit is ${this.#options.maxChangeBytes}`,
      );
    }
    let result;
    try {
      result = await this.#options.store.append(topic, data, { clientId });
    } catch (error) {
      this.#options.logger.error(`topic ${JSON.stringify(topic)}: append failed: ${String(error)}`);
      return connection.sendError(id, 'INTERNAL', 'the topic store failed; retrying may work');
    }
    const { change, duplicate } = result;
    connection.send({ type: 'published', id, topic, seq: change.seq, duplicate });
    if (!duplicate) this.#stored(change);
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
