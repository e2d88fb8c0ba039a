import type { Redis } from 'ioredis';
import {
  decodeChangeRecord,
  defineTopicStore,
  encodeChangeRecord,
  storedChange,
  type StoreBackend,
} from '../store/preamble.js';
import type { StoredChange, TopicStore } from '../store/topic-store.js';
import { connectRedis, quitRedis, RedisKeys } from './keys.js';

/**
 * Options of {@link openRedisTopicStore} and `openRedisBackend`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { url: 'redis://127.0.0.1:6379', keyPrefix: 'my-app:' };
 * ```
 */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Prepended to every key and channel. Default {@link DEFAULT_REDIS_KEY_PREFIX}. */
  keyPrefix?: string;
}

/**
 * Appends one change atomically (Redis runs a script without interleaving other commands):
 * the clientId check, seq = the stream's last id + 1, XADD with the explicit id `<seq>-0`, the
 * clientId's seq, and the PUBLISH that tells every server process. The stream's own ids are the
 * seqs, so no separate counter can disagree with the log, and XADD refuses an id that is not
 * above the last one: the log cannot get a gap or a duplicate seq.
 *
 * KEYS: log stream, clientId hash. ARGV: clientId ('' for none), record JSON, channel.
 * Returns `{seq}` for a new change, `{seq, record}` for a duplicate.
 */
const APPEND_SCRIPT = `
local clientId = ARGV[1]
if clientId ~= '' then
  local seen = redis.call('HGET', KEYS[2], clientId)
  if seen then
    local original = redis.call('XRANGE', KEYS[1], seen, seen)
    if #original > 0 then return {seen, original[1][2][2]} end
  end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = 1
if #last > 0 then seq = tonumber(string.match(last[1][1], '^%d+')) + 1 end
local id = string.format('%d', seq)
redis.call('XADD', KEYS[1], id .. '-0', 'change', ARGV[2])
if clientId ~= '' then redis.call('HSET', KEYS[2], clientId, id) end
redis.call('PUBLISH', ARGV[3], '{"seq":' .. id .. ',' .. string.sub(ARGV[2], 2))
return {id}
`;

/** The Redis client with the append script defined on it. */
interface ScriptedRedis extends Redis {
  sharedSessionAppend(
    log: string,
    clientIds: string,
    clientId: string,
    record: string,
    channel: string,
  ): Promise<string[]>;
}

/** The seq of a stream entry id `<seq>-0`. */
function seqOfId(id: string): number {
  return Number.parseInt(id, 10);
}

/** A stream entry as XRANGE returns it: the id and the field list `['change', record]`. */
type StreamEntry = [id: string, fields: string[]];

/** The change of a stream entry. */
function changeOfEntry(topic: string, [id, fields]: StreamEntry): StoredChange {
  return decodeChangeRecord(topic, seqOfId(id), fields[1] ?? '');
}

/**
 * Reads the newest change of a topic, or `undefined` while it has none (the change feed uses it to
 * recover changes announced while it was not subscribed).
 */
export async function readLastChange(client: Redis, keys: RedisKeys, topic: string): Promise<StoredChange | undefined> {
  const entry = await lastEntry(client, keys, topic);
  return entry === undefined ? undefined : changeOfEntry(topic, entry);
}

async function lastEntry(client: Redis, keys: RedisKeys, topic: string): Promise<StreamEntry | undefined> {
  const [entry] = (await client.xrevrange(keys.log(topic), '+', '-', 'COUNT', 1)) as StreamEntry[];
  return entry;
}

/**
 * The store's work over a Redis client the caller owns (`openRedisBackend` shares one client
 * between the store and the session registry); its `close()` leaves the client open.
 */
function redisStoreBackend(client: Redis, keys: RedisKeys): StoreBackend {
  const scripted = client as ScriptedRedis;
  if (typeof scripted.sharedSessionAppend !== 'function') {
    // EVALSHA with a fallback to EVAL: the script's text crosses the network once per connection.
    client.defineCommand('sharedSessionAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
  }
  return {
    async append(topic, change) {
      // The script prepends the seq to the same record text for the channel message.
      const [id, original] = await scripted.sharedSessionAppend(
        keys.log(topic),
        keys.clientIds(topic),
        change.clientId ?? '',
        encodeChangeRecord(change),
        keys.changes(topic),
      );
      if (id === undefined) throw new Error('the append script returned no seq');
      const seq = seqOfId(id);
      if (original !== undefined) return { change: decodeChangeRecord(topic, seq, original), duplicate: true };
      return { change: storedChange(topic, seq, change), duplicate: false };
    },

    async read(topic, after, limit) {
      // An incomplete id `n` starts at `n-0`, the entry of seq n.
      const entries = (await client.xrange(keys.log(topic), String(after + 1), '+', 'COUNT', limit)) as StreamEntry[];
      return entries.map((entry) => changeOfEntry(topic, entry));
    },

    async head(topic) {
      const entry = await lastEntry(client, keys, topic);
      return entry === undefined ? 0 : seqOfId(entry[0]);
    },

    async ping() {
      await client.ping();
    },

    async close() {},
  };
}

/**
 * A {@link TopicStore} over a Redis client the caller owns. `close()` stops the store, not the client.
 *
 * @param client - a command connection
 * @param keys - key and channel names
 */
export function createRedisTopicStore(client: Redis, keys: RedisKeys): TopicStore {
  return defineTopicStore(redisStoreBackend(client, keys));
}

/**
 * Opens the Redis {@link TopicStore}: the store for several server processes behind a load
 * balancer (spec §7). Each topic's log is a Redis Stream whose entry ids are the seqs; the
 * exactly-once state of publishes is a hash clientId → seq next to it, shared by every process.
 * One Lua script appends atomically (clientId check, seq, XADD, the clientId's seq, and the
 * PUBLISH that the change feed of every process receives), so the seq stays gap-free and
 * authoritative however many processes append at once. Reading after a cursor is an XRANGE from
 * `<cursor + 1>-0`: a seek, whatever the log's length.
 *
 * Durability is Redis's: configure AOF (`appendonly yes`) or RDB snapshots for topics that must
 * survive a Redis restart. The store never trims a log.
 *
 * Import from `shared-session/server`. For a server, `store: { redis: url }` opens this store
 * with the Redis change feed and session registry (`openRedisBackend`).
 *
 * @param options - `url` of the Redis server, `keyPrefix`
 * @returns the open store; `close()` waits for pending appends and closes its connection
 * @throws TypeError for a URL that is not `redis://` or `rediss://`; an Error when Redis cannot be reached
 *
 * @example
 * ```ts
 * import { openRedisTopicStore } from 'shared-session/server';
 *
 * const store = await openRedisTopicStore({ url: 'redis://127.0.0.1:6379' });
 * const { change } = await store.append('chat', { text: 'hi' }, { clientId: 'c-1' });
 * await store.close();
 * ```
 */
export async function openRedisTopicStore(options: RedisStoreOptions): Promise<TopicStore> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const keys = new RedisKeys(options.keyPrefix);
  const client = await connectRedis(options.url);
  // QUIT is queued behind the pending commands, so pending appends complete first.
  return defineTopicStore({ ...redisStoreBackend(client, keys), close: () => quitRedis(client) });
}
