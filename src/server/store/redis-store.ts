import type { Redis } from 'ioredis';
import type { JsonValue } from '../../protocol/messages.js';
import { connectRedis, quitRedis, RedisKeys } from './redis-keys.js';
import type { AppendOptions, AppendResult, StoredChange, TopicStore } from './topic-store.js';
import { assertCount, assertTopic, normalizeAppendOptions } from './validate.js';
import { decodeChangeRecord, encodeChangeRecord } from './change-record.js';

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

/**
 * Builds a change from a stream entry's id and record, or from a channel message (the record with
 * `seq` first). Exported for the change feed, which decodes what the append script publishes.
 */
export function decodeChange(topic: string, seq: number, record: string): StoredChange {
  return decodeChangeRecord(topic, seq, record);
}

/** The seq of a stream entry id `<seq>-0`. */
export function seqOfId(id: string): number {
  return Number.parseInt(id, 10);
}

/**
 * Reads the newest change of a topic, or `undefined` while it has none (the change feed uses it to
 * recover changes announced while it was not subscribed).
 */
export async function readLastChange(client: Redis, keys: RedisKeys, topic: string): Promise<StoredChange | undefined> {
  const [entry] = (await client.xrevrange(keys.log(topic), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
  return entry === undefined ? undefined : decodeChange(topic, seqOfId(entry[0]), entry[1][1]!);
}

/**
 * A {@link TopicStore} over a Redis client the caller owns (`openRedisBackend` shares one client
 * between the store and the session registry). `close()` stops the store, not the client.
 */
export function createRedisTopicStore(client: Redis, keys: RedisKeys): TopicStore {
  const scripted = client as ScriptedRedis;
  if (typeof scripted.sharedSessionAppend !== 'function') {
    // EVALSHA with a fallback to EVAL: the script's text crosses the network once per connection.
    client.defineCommand('sharedSessionAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
  }
  let closed = false;
  const assertOpen = (): void => {
    if (closed) throw new Error('the topic store is closed');
  };

  return {
    async append(topic: string, data: JsonValue, options?: AppendOptions): Promise<AppendResult> {
      assertOpen();
      assertTopic(topic);
      const { clientId, publishedAt } = normalizeAppendOptions(options);
      // Composed around the validated data, so the data is serialised once; the script prepends the seq
      // to the same text for the channel message.
      const record = encodeChangeRecord(data, publishedAt, clientId);
      const reply = await scripted.sharedSessionAppend(
        keys.log(topic),
        keys.clientIds(topic),
        clientId ?? '',
        record,
        keys.changes(topic),
      );
      const seq = seqOfId(reply[0]!);
      if (reply.length > 1) return { change: decodeChange(topic, seq, reply[1]!), duplicate: true };
      const change: StoredChange = { topic, seq, data, publishedAt };
      if (clientId !== undefined) change.clientId = clientId;
      return { change, duplicate: false };
    },

    async read(topic: string, after: number, limit: number): Promise<StoredChange[]> {
      assertOpen();
      assertTopic(topic);
      assertCount('after', after);
      assertCount('limit', limit);
      if (limit === 0) return [];
      // An incomplete id `n` starts at `n-0`, the entry of seq n.
      const entries = (await client.xrange(keys.log(topic), String(after + 1), '+', 'COUNT', limit)) as Array<
        [string, string[]]
      >;
      return entries.map(([id, fields]) => decodeChange(topic, seqOfId(id), fields[1]!));
    },

    async head(topic: string): Promise<number> {
      assertOpen();
      assertTopic(topic);
      const [entry] = (await client.xrevrange(keys.log(topic), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      return entry === undefined ? 0 : seqOfId(entry[0]);
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
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
  const store = createRedisTopicStore(client, keys);
  let closing: Promise<void> | undefined;
  return {
    append: store.append,
    read: store.read,
    head: store.head,
    close() {
      // QUIT is queued behind the pending commands, so pending appends complete first.
      closing ??= store.close().then(() => quitRedis(client));
      return closing;
    },
  };
}
