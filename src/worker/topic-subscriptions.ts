import { SessionError } from '../errors/index.js';
import type { SessionErrorCode } from '../protocol/error-codes.js';
import type {
  HistoryPage,
  HistoryRequest,
  InspectedTopic,
  SubscriptionRequest,
  TopicChange,
} from '../protocol/host-api.js';
import type { ChangeMessage, HistoryTrimmedMessage, ServerMessage } from '../protocol/messages.js';
import { validateTopicName } from '../protocol/topic-name.js';
import type { RequestBody } from './server-connection.js';
import { newTopic, skipTrimmed, subKey, type HostTopic, type TabSubscription } from './host-topic.js';
import { NextLink, topicHistory } from './topic-history.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { TopicCacheStore } from './topic-cache-store.js';

/** Changes kept per topic (memory and IndexedDB) for late subscribers and offline starts. */
export const TOPIC_CACHE_LIMIT = 5_000;
/**
 * Received changes are written to IndexedDB in one transaction per topic at most this often, off
 * the delivery path: right after a delivery once due (the tabs have the change, the next one is
 * furthest away), or twice this long after the first unsaved change when the stream pauses. A
 * host that dies in between only re-fetches those changes on resume.
 */
export const CACHE_SAVE_DELAY_MS = 100;

/** The slice of the server connection topics need. */
export interface TopicLink {
  request(body: RequestBody): Promise<ServerMessage>;
  send(message: { type: 'unsubscribe'; topic: string }): boolean;
}

/** How changes and failures reach tabs. */
export interface TopicDelivery {
  deliver(tabId: string, subId: string, changes: TopicChange[]): void;
  /** The subscription skips the changes after `after` and before `first`: the server trimmed them. */
  trimmed(tabId: string, subId: string, after: number, first: number): void;
  fail(tabId: string, subId: string, code: SessionErrorCode, message: string): void;
}

/**
 * The host's topics: one server subscription per topic however many tabs subscribe (reference
 * counted), a bounded per-user cache in memory and IndexedDB, and in-order, gap-free,
 * duplicate-free delivery to every tab subscription. After a reconnect, reload or host restart
 * it asks the server only for changes after its cursor.
 */
export class TopicSubscriptions {
  readonly #cache: Promise<TopicCacheStore>;
  readonly #delivery: TopicDelivery;
  readonly #limit: number;
  readonly #topics = new Map<string, HostTopic>();
  #userId: string | undefined;
  /** The user whose changes the in-memory windows hold (kept while no session runs). */
  #dataUser: string | undefined;
  #link: TopicLink | undefined;
  /** History requests waiting for a socket. */
  readonly #nextLink: NextLink<TopicLink>;
  #changesReceived = 0;
  /** When the unsaved changes are due in IndexedDB (epoch ms); undefined: nothing unsaved. */
  #saveDueAt: number | undefined;

  /**
   * @param cache - persistence of caches and cursors
   * @param delivery - how changes reach tabs
   * @param limit - changes cached per topic
   */
  constructor(
    cache: Promise<TopicCacheStore>,
    delivery: TopicDelivery,
    limit = TOPIC_CACHE_LIMIT,
    clock: Clock = systemClock,
  ) {
    this.#nextLink = new NextLink(clock);
    this.#cache = cache;
    this.#delivery = delivery;
    this.#limit = limit;
  }

  /** Counters for `inspect()`. */
  stats(): { topics: number; tabSubscriptions: number; changesReceived: number } {
    const topics = this.inspect();
    const tabSubscriptions = topics.reduce((sum, topic) => sum + topic.subscribers, 0);
    return { topics: topics.filter((t) => t.live).length, tabSubscriptions, changesReceived: this.#changesReceived };
  }

  /** The topics as `inspect()` reports them. */
  inspect(): InspectedTopic[] {
    return [...this.#topics.values()].map((topic) => ({
      topic: topic.name,
      cursor: topic.cursor,
      cached: topic.window.length,
      subscribers: topic.subs.size,
      live: topic.requestedAfter !== undefined,
    }));
  }

  /**
   * Switches the cache to another user, or to none while no session runs. Changes not yet saved
   * are written under the user they belong to first. For the same user again (a session ended and
   * restarted) every position is kept, so no tab gets a change twice; for another user each topic
   * reloads that user's cache and cursor and tabs start over, so one user's cached changes never
   * reach another's tabs.
   */
  setUser(userId: string | undefined): void {
    if (userId === this.#userId) return;
    const previous = this.#dataUser;
    if (previous) void this.#save([...this.#topics.values()], previous);
    this.#userId = userId;
    if (userId === undefined) return;
    if (userId === previous) {
      // Topics first subscribed while no session ran have not read this user's cache yet.
      for (const topic of this.#topics.values()) if (topic.loadedFor !== userId) topic.loaded = this.#load(topic);
      return;
    }
    this.#dataUser = userId;
    for (const topic of this.#topics.values()) {
      topic.window = [];
      topic.unsaved = [];
      topic.cursor = 0;
      topic.requestedAfter = topic.replayAt = undefined;
      for (const sub of topic.subs.values()) sub.delivered = 0;
      topic.loaded = this.#load(topic);
    }
  }

  /** Adds a tab's subscription: cached changes first, then the rest from the server, then live. */
  async add(tabId: string, request: SubscriptionRequest): Promise<void> {
    const { subId, topic: name, since } = request;
    const problem = validateTopicName(name);
    if (problem !== undefined) {
      throw new SessionError('INVALID_ARGUMENT', problem);
    }
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      throw new SessionError('INVALID_ARGUMENT', '"since" must be a non-negative integer');
    }
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = newTopic(name);
      topic.loaded = this.#load(topic);
      this.#topics.set(name, topic);
    }
    await topic.loaded;
    if (this.#topics.get(name) !== topic) return this.add(tabId, request); // reset while loading
    const floor = topic.window[0]?.seq;
    const start = since ?? (floor !== undefined ? floor - 1 : 0);
    topic.subs.set(subKey(tabId, subId), { tabId, subId, delivered: start });
    this.#pump(topic);
    this.#subscribeAtServer(topic);
  }

  /** Removes one subscription; the server subscription goes with the topic's last one. */
  remove(tabId: string, subId: string): void {
    for (const topic of this.#topics.values()) {
      if (topic.subs.delete(subKey(tabId, subId))) this.#dropIfUnused(topic);
    }
  }

  /** Removes every subscription of a tab that left. */
  removeTab(tabId: string): void {
    for (const topic of [...this.#topics.values()]) {
      for (const [key, sub] of topic.subs) if (sub.tabId === tabId) topic.subs.delete(key);
      this.#dropIfUnused(topic);
    }
  }

  /**
   * Older changes of a topic (spec §3 `history`): from the host's cache when it holds the whole
   * range, else from the server (permission-checked there like `subscribe`).
   *
   * @throws {@link SessionError} `INVALID_ARGUMENT`, `DISCONNECTED` (no socket and no cached range),
   *   or the server's refusal (`FORBIDDEN`)
   */
  async history(request: HistoryRequest): Promise<HistoryPage> {
    const topic = this.#topics.get(request.topic);
    if (topic) await topic.loaded;
    const cached = topic && { window: topic.window, cursor: topic.cursor, live: topic.requestedAfter !== undefined };
    if (!this.#userId)
      throw new SessionError('NO_ACTIVE_SESSION', 'no session is running: call startSession(token) first');
    return topicHistory(request, cached, () => (this.#link ? Promise.resolve(this.#link) : this.#nextLink.wait()));
  }

  /** A socket was authenticated: subscribe every topic after its cursor. */
  onConnected(link: TopicLink): void {
    this.#link = link;
    this.#nextLink.open(link);
    for (const topic of this.#topics.values()) {
      topic.requestedAfter = undefined;
      this.#subscribeAtServer(topic);
    }
  }

  /** The socket closed: server subscriptions are gone with it. */
  onDisconnected(): void {
    this.#link = undefined;
    for (const topic of this.#topics.values()) topic.requestedAfter = topic.replayAt = undefined;
  }

  /** A `change` frame from the server. */
  onChange(message: ChangeMessage): void {
    const topic = this.#topics.get(message.topic);
    if (!topic || topic.requestedAfter === undefined) return; // unsubscribed meanwhile
    this.#changesReceived++;
    const change: TopicChange = {
      topic: message.topic,
      seq: message.seq,
      data: message.data,
      publishedAt: message.publishedAt,
      ...(message.clientId !== undefined && { clientId: message.clientId }),
    };
    if (change.seq === topic.cursor + 1) {
      topic.replayAt = undefined;
      topic.cursor = change.seq;
      topic.window.push(change);
      topic.unsaved.push(change);
      // shift() is O(1) in V8 (the array is trimmed in place); splice(0, n) moves the whole window.
      while (topic.window.length > this.#limit) topic.window.shift();
      this.#scheduleSave();
      this.#pump(topic);
      if (this.#saveDueAt !== undefined && Date.now() >= this.#saveDueAt) void this.flush();
    } else if (change.seq <= topic.cursor) {
      // Backfill for a tab that asked for more history than the cache holds.
      topic.replayAt = change.seq < topic.cursor ? change.seq : undefined;
      for (const sub of topic.subs.values()) {
        if (sub.delivered === change.seq - 1) {
          sub.delivered = change.seq;
          this.#delivery.deliver(sub.tabId, sub.subId, [change]);
        }
      }
      this.#pump(topic);
    } else {
      // A gap: never deliver out of order; ask again from the cursor (once until it is answered).
      if (topic.awaitingAnswer) return;
      topic.requestedAfter = undefined;
      this.#subscribeAtServer(topic);
    }
  }

  /**
   * The server trimmed the changes before `first` that a subscription (the host's, or a tab's
   * backfill) still needed: jump past them and tell every tab subscription that misses them
   * (`HISTORY_TRIMMED`), then go on with `first` — never a silent gap, never a resubscribe loop.
   */
  onTrimmed(message: HistoryTrimmedMessage): void {
    const topic = this.#topics.get(message.topic);
    if (!topic || topic.requestedAfter === undefined) return;
    const userId = this.#dataUser;
    const report = (sub: TabSubscription, after: number) =>
      this.#delivery.trimmed(sub.tabId, sub.subId, after, message.first);
    if (skipTrimmed(topic, message.first, report) && userId) {
      void this.#cache.then((cache) => cache.reset(userId, topic.name));
    }
    this.#pump(topic);
  }

  /** Wipes every cache (memory and IndexedDB); subscriptions stay and resync from the server. */
  async clear(): Promise<void> {
    for (const topic of this.#topics.values()) {
      topic.window = [];
      topic.unsaved = [];
    }
    await (await this.#cache).clear();
  }

  /** Sends every topic's unsaved changes and cursor to IndexedDB, one transaction per topic. */
  flush(): Promise<void> {
    this.#saveDueAt = undefined;
    return this.#save([...this.#topics.values()]);
  }

  async #save(topics: HostTopic[], userId = this.#dataUser): Promise<void> {
    if (!userId) return;
    // Take the batches now: a user switch right after this call resets the topics.
    const batches = topics
      .filter((topic) => topic.unsaved.length > 0)
      .map((topic) => {
        const batch = {
          name: topic.name,
          changes: topic.unsaved,
          cursor: topic.cursor,
          floor: topic.window[0]?.seq ?? topic.cursor + 1,
        };
        topic.unsaved = [];
        return batch;
      });
    if (batches.length === 0) return;
    const cache = await this.#cache;
    await Promise.all(batches.map((b) => cache.save(userId, b.name, b.changes, b.cursor, b.floor)));
  }

  #scheduleSave(): void {
    if (this.#saveDueAt !== undefined) return;
    const dueAt = Date.now() + CACHE_SAVE_DELAY_MS;
    this.#saveDueAt = dueAt;
    // A timer of its own would fire in the middle of a periodic stream's next delivery.
    setTimeout(() => {
      if (this.#saveDueAt === dueAt) void this.flush();
    }, 2 * CACHE_SAVE_DELAY_MS);
  }

  async #load(topic: HostTopic): Promise<void> {
    const userId = this.#userId;
    if (!userId) return;
    const cached = await (await this.#cache).load(userId, topic.name, this.#limit);
    if (this.#userId !== userId) return;
    topic.loadedFor = userId;
    topic.cursor = Math.max(topic.cursor, cached.cursor);
    if (topic.window.length === 0) topic.window = cached.changes.filter((c) => c.seq <= topic.cursor);
  }

  /** Delivers to each subscription what the window holds after its position, in one batch. */
  #pump(topic: HostTopic): void {
    const floor = topic.window[0]?.seq ?? topic.cursor + 1;
    let backfillFrom: number | undefined;
    for (const sub of topic.subs.values()) {
      if (sub.delivered >= topic.cursor) continue;
      if (sub.delivered + 1 < floor) {
        backfillFrom = Math.min(backfillFrom ?? sub.delivered, sub.delivered);
        continue;
      }
      const batch = topic.window.slice(sub.delivered + 1 - floor);
      sub.delivered = topic.cursor;
      this.#delivery.deliver(sub.tabId, sub.subId, batch);
    }
    // A replay already streaming from at or before this position will serve it as it passes.
    if (backfillFrom !== undefined && (topic.replayAt === undefined || backfillFrom < topic.replayAt)) {
      topic.requestedAfter = undefined;
      this.#subscribeAtServer(topic, backfillFrom);
      if (topic.requestedAfter !== undefined) topic.replayAt = backfillFrom;
    }
  }

  #subscribeAtServer(topic: HostTopic, after = this.#lowestNeeded(topic)): void {
    const link = this.#link;
    if (!link || topic.requestedAfter !== undefined || topic.subs.size === 0 || !this.#userId) return;
    topic.requestedAfter = after;
    topic.awaitingAnswer = true;
    link.request({ type: 'subscribe', topic: topic.name, after }).then(
      (answer) => {
        topic.awaitingAnswer = false;
        if (this.#topics.get(topic.name) !== topic || this.#link !== link) return;
        // The server's log is shorter than what we asked to continue from: it lost changes.
        if (answer.type === 'subscribed' && answer.head < after) this.#onServerLogReset(topic, answer.head);
      },
      (error: SessionError) => {
        topic.awaitingAnswer = false;
        if (this.#topics.get(topic.name) !== topic || this.#link !== link) return;
        topic.requestedAfter = undefined;
        if (error.code === 'DISCONNECTED') return; // resubscribed on the next welcome
        if (error.code === 'TIMEOUT' || error.code === 'RATE_LIMITED' || error.code === 'INTERNAL') {
          setTimeout(() => this.#subscribeAtServer(topic), 1_000);
          return;
        }
        for (const sub of topic.subs.values()) this.#delivery.fail(sub.tabId, sub.subId, error.code, error.message);
        topic.subs.clear();
        this.#topics.delete(topic.name);
      },
    );
  }

  /** The lowest position any subscription still needs (the cursor, unless one wants history). */
  #lowestNeeded(topic: HostTopic): number {
    let after = topic.cursor;
    const floor = topic.window[0]?.seq ?? topic.cursor + 1;
    for (const sub of topic.subs.values()) if (sub.delivered + 1 < floor) after = Math.min(after, sub.delivered);
    return after;
  }

  /** The server's log is shorter than our cursor (e.g. an in-memory server restarted): start over at its head. */
  #onServerLogReset(topic: HostTopic, head: number): void {
    topic.cursor = head;
    topic.window = topic.window.filter((c) => c.seq <= head);
    topic.unsaved = [];
    for (const sub of topic.subs.values()) sub.delivered = Math.min(sub.delivered, head);
    const userId = this.#dataUser;
    if (userId) void this.#cache.then((cache) => cache.reset(userId, topic.name));
    // The server streams only after the `after` we sent; ask again from its head.
    topic.requestedAfter = undefined;
    this.#subscribeAtServer(topic);
  }

  #dropIfUnused(topic: HostTopic): void {
    if (topic.subs.size > 0 || this.#topics.get(topic.name) !== topic) return;
    this.#topics.delete(topic.name);
    if (topic.requestedAfter !== undefined) this.#link?.send({ type: 'unsubscribe', topic: topic.name });
    void this.#save([topic]);
  }
}
