import type { Redis } from 'ioredis';
import { STORE_RETRY_MS } from '../constants.js';
import { decodeChangeRecord } from '../store/preamble.js';
import type { StoredChange } from '../store/topic-store.js';
import type { ChangeFeed, ChangeListener } from '../topics/change-feed.js';
import type { RedisKeys } from './keys.js';
import { readLastChange } from './store.js';

/** A topic this process listens to. */
interface Listened {
  readonly topic: string;
  readonly channel: string;
  readonly listeners: Set<ChangeListener>;
  /** Highest seq handed to the listeners: older announcements are dropped unparsed. */
  delivered: number;
}

const SEQ_PREFIX = '{"seq":';

/**
 * The {@link ChangeFeed} of several server processes sharing a Redis store, over Redis pub/sub.
 *
 * Why pub/sub rather than reading the streams (XREAD BLOCK): the topic logs are already streams,
 * so what the feed has to do is only to *wake* every process that has subscribers of a topic.
 * Pub/sub pushes each change once to exactly the processes subscribed to its topic's channel, and
 * a process subscribes or unsubscribes a topic with one command when its first subscriber comes or
 * its last one goes. XREAD BLOCK would hold one blocking read over every listened stream per
 * process, to be interrupted and re-issued (with all the stream keys and cursors) whenever the set
 * of topics changes, and each call costs in proportion to the number of topics listened to.
 *
 * Pub/sub delivers at most once, which is enough here because the streams are the source of truth:
 * - the append script publishes inside the same atomic step as the XADD, so every stored change is
 *   announced (even when the appending process dies right after) and the channel's order is the
 *   seq order;
 * - topic groups skip what they already emitted and read any gap back from the store;
 * - after each SUBSCRIBE is confirmed (first listener of a topic, and every reconnect of the
 *   subscriber connection) the feed reads the topic's newest change from the stream and hands it
 *   to the listeners, so a change published while the channel was not yet (or no longer)
 *   subscribed is found by the groups without waiting for the next publish.
 *
 * `announce` hands a change this process appended to its listeners at once (no round trip);
 * the copy that comes back over the channel is then dropped by its seq, before it is parsed.
 *
 * @param subscriber - a connection in subscriber mode, owned by the caller
 * @param reader - a connection for reading the streams, owned by the caller
 * @param keys - key and channel names
 * @param onError - receives failures (a listener that threw, a failed SUBSCRIBE or read)
 */
export function createRedisChangeFeed(
  subscriber: Redis,
  reader: Redis,
  keys: RedisKeys,
  onError: (error: unknown) => void,
): ChangeFeed {
  const byTopic = new Map<string, Listened>();
  const byChannel = new Map<string, Listened>();
  let closed = false;

  const deliver = (entry: Listened, change: StoredChange): void => {
    entry.delivered = Math.max(entry.delivered, change.seq);
    for (const listener of entry.listeners) {
      try {
        listener(change);
      } catch (error) {
        onError(error);
      }
    }
  };

  const onMessage = (channel: string, message: string): void => {
    const entry = byChannel.get(channel);
    if (entry === undefined || !message.startsWith(SEQ_PREFIX)) return;
    const seq = Number.parseInt(message.slice(SEQ_PREFIX.length), 10);
    if (!(seq > entry.delivered)) return;
    let change: StoredChange;
    try {
      // The stream record with the seq first: the record's other fields decode as stored.
      change = decodeChangeRecord(entry.topic, seq, message);
    } catch (error) {
      return onError(error);
    }
    deliver(entry, change);
  };

  /** Hands the topic's newest stored change to the listeners (they read any gap before it). */
  const resync = async (entry: Listened): Promise<void> => {
    if (closed || byTopic.get(entry.topic) !== entry) return;
    try {
      const last = await readLastChange(reader, keys, entry.topic);
      if (last !== undefined && byTopic.get(entry.topic) === entry && last.seq > entry.delivered) deliver(entry, last);
    } catch (error) {
      onError(error);
      setTimeout(() => void resync(entry), STORE_RETRY_MS).unref();
    }
  };

  const subscribe = (entry: Listened): void => {
    subscriber.subscribe(entry.channel).then(
      () => resync(entry),
      (error: unknown) => {
        if (closed || byTopic.get(entry.topic) !== entry) return;
        onError(error);
        // Retried on the next reconnect ('ready'), or now if the connection is up.
        setTimeout(() => {
          if (!closed && byTopic.get(entry.topic) === entry && subscriber.status === 'ready') subscribe(entry);
        }, STORE_RETRY_MS).unref();
      },
    );
  };

  // Every reconnect of the subscriber connection: ioredis resubscribes by itself, but changes
  // published while it was away are lost on the channel, so confirm and read each topic's tail.
  const onReady = (): void => {
    for (const entry of byTopic.values()) subscribe(entry);
  };

  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);

  return {
    announce(change) {
      const entry = byTopic.get(change.topic);
      if (entry !== undefined && change.seq > entry.delivered) deliver(entry, change);
    },

    listen(topic, listener) {
      let entry = byTopic.get(topic);
      if (entry === undefined) {
        entry = { topic, channel: keys.changes(topic), listeners: new Set(), delivered: 0 };
        byTopic.set(topic, entry);
        byChannel.set(entry.channel, entry);
        if (!closed) subscribe(entry);
      }
      const listened = entry;
      // A wrapper, so that one listener function may listen twice and stop each independently.
      const wrapper: ChangeListener = (change) => listener(change);
      listened.listeners.add(wrapper);
      return () => {
        if (!listened.listeners.delete(wrapper) || listened.listeners.size > 0) return;
        if (byTopic.get(topic) !== listened) return;
        byTopic.delete(topic);
        byChannel.delete(listened.channel);
        if (!closed) subscriber.unsubscribe(listened.channel).catch(() => {});
      };
    },

    async close() {
      closed = true;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      const channels = [...byChannel.keys()];
      byTopic.clear();
      byChannel.clear();
      if (channels.length > 0 && subscriber.status === 'ready')
        await subscriber.unsubscribe(...channels).catch(() => {});
    },
  };
}
