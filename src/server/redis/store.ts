import type { Redis } from 'ioredis';
import { GROUP_COMMIT_MAX_BYTES, GROUP_COMMIT_MAX_OPS, GroupCommit, type OpOutcome } from '../store/group-commit.js';
import {
  decodeChangeRecord,
  defineTopicStore,
  storedChange,
  type NewChange,
  type StoreBackend,
} from '../store/preamble.js';
import { DEFAULT_RETENTION, resolveRetention, type TopicRetention } from '../store/retention.js';
import type { AppendResult, StoredChange, TopicStore } from '../store/topic-store.js';
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
  /** What each topic keeps. Default `DEFAULT_RETENTION`. */
  retention?: Partial<TopicRetention>;
}

/**
 * Appends a batch of changes to one topic atomically (Redis runs a script without interleaving
 * other commands), one change after the other in the order given: the clientId check (which sees
 * the earlier changes of the batch, so a clientId repeated in it is stored once), seq = the
 * stream's last id + 1, XADD with the explicit id `<seq>-0`, the clientId's seq, retention, and
 * the PUBLISH that tells every server process. The stream's own ids are the seqs, so no separate
 * counter can disagree with the log, and XADD refuses an id that is not above the last one: the
 * log cannot get a gap or a duplicate seq. Retention XDELs the oldest entries (and their
 * clientIds) while the topic passes a limit; the newest entry is always kept, and a stream
 * remembers its last id after XDEL, so the seqs go on.
 *
 * Entry fields: `change` (the record), `b` (its bytes), `c` (its clientId, when it has one). An
 * entry written before retention existed has only `change` (its size is the record's length),
 * and a topic's byte counter starts at its first append under retention.
 *
 * KEYS: log stream, clientId hash, retained-bytes counter. ARGV: channel, maxChanges, maxBytes,
 * maxAgeMs (-1 for no limit), then four per change: clientId ('' for none), record JSON, record
 * bytes, publishedAt. Returns one reply per change: `{seq}` for a new change, `{seq, record}` for
 * a duplicate.
 */
const APPEND_SCRIPT = `
local maxChanges, maxBytes, maxAge = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = 0
if #last > 0 then seq = tonumber(string.match(last[1][1], '^%d+')) end
local count = redis.call('XLEN', KEYS[1])
local bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
local replies = {}
for i = 5, #ARGV, 4 do
  local clientId, record, recordBytes, now = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local reply = nil
  if clientId ~= '' then
    local seen = redis.call('HGET', KEYS[2], clientId)
    if seen then
      local original = redis.call('XRANGE', KEYS[1], seen, seen)
      if #original > 0 then reply = {seen, original[1][2][2]} end
    end
  end
  if reply == nil then
    seq = seq + 1
    local id = string.format('%d', seq)
    if clientId ~= '' then
      redis.call('XADD', KEYS[1], id .. '-0', 'change', record, 'b', recordBytes, 'c', clientId)
      redis.call('HSET', KEYS[2], clientId, id)
    else
      redis.call('XADD', KEYS[1], id .. '-0', 'change', record, 'b', recordBytes)
    end
    bytes = bytes + tonumber(recordBytes)
    count = count + 1
    while count > 1 do
      local over = (maxChanges >= 0 and count > maxChanges) or (maxBytes >= 0 and bytes > maxBytes)
      -- The oldest entry is read only when its age can decide, or when it must go.
      if not over and maxAge < 0 then break end
      local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
      local fields = oldest[2]
      local old, size, cid = '', nil, nil
      for f = 1, #fields, 2 do
        if fields[f] == 'change' then old = fields[f + 1]
        elseif fields[f] == 'b' then size = tonumber(fields[f + 1])
        elseif fields[f] == 'c' then cid = fields[f + 1] end
      end
      size = size or string.len(old)
      local publishedAt = tonumber(string.match(old, '^{"publishedAt":([-%d.eE+]+)')) or now
      over = over or now - publishedAt > maxAge
      if not over then break end
      redis.call('XDEL', KEYS[1], oldest[1])
      bytes = bytes - size
      if cid and redis.call('HGET', KEYS[2], cid) == string.match(oldest[1], '^%d+') then
        redis.call('HDEL', KEYS[2], cid)
      end
      count = count - 1
    end
    redis.call('PUBLISH', ARGV[1], '{"seq":' .. id .. ',' .. string.sub(record, 2))
    reply = {id}
  end
  replies[#replies + 1] = reply
end
redis.call('SET', KEYS[3], bytes)
return replies
`;

/**
 * Most changes one script call appends: a script holds Redis for every other client while it
 * runs, so a large batch of one topic is split into calls of this many (sent together, in order).
 */
export const REDIS_APPENDS_PER_SCRIPT = 128;

/** The Redis client with the append script defined on it (its pipelines have it too). */
interface ScriptedRedis extends Redis {
  sharedSessionAppend(
    log: string,
    clientIds: string,
    bytes: string,
    ...args: Array<string | number>
  ): Promise<string[][]>;
}

/** A pipeline of the scripted client. */
interface ScriptedPipeline {
  sharedSessionAppend(log: string, clientIds: string, bytes: string, ...args: Array<string | number>): ScriptedPipeline;
  exec(): Promise<Array<[error: Error | null, result: unknown]> | null>;
}

/** One append waiting for its script call. */
interface PendingAppend {
  topic: string;
  change: NewChange;
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

/** The bytes a stream entry counts for: its `b` field, or its record's length for an older entry. */
function entryBytes([, fields]: StreamEntry): number {
  const index = fields.indexOf('b');
  const counted = index > 0 ? Number(fields[index + 1]) : Number.NaN;
  return Number.isFinite(counted) ? counted : (fields[1] ?? '').length;
}

/** Entries a byte-limited read asks for first, before it knows their sizes. */
const FIRST_CHUNK = 8;

/**
 * Reads up to `limit` entries in chunks sized from the entries seen so far, stopping once
 * `maxBytes` were read: a byte-limited read never pulls 500 large entries into memory at once.
 *
 * @param fetch - reads `count` entries past the given seq (ascending after it, or descending before it)
 * @param start - the seq the read starts from (exclusive)
 * @param limit - most entries
 * @param maxBytes - the byte limit (`Infinity`: one fetch)
 */
async function readChunked(
  fetch: (cursor: number, count: number) => Promise<StreamEntry[]>,
  start: number,
  limit: number,
  maxBytes: number,
): Promise<StreamEntry[]> {
  if (maxBytes === Number.POSITIVE_INFINITY) return fetch(start, limit);
  const out: StreamEntry[] = [];
  let bytes = 0;
  let cursor = start;
  let chunk = Math.min(limit, FIRST_CHUNK);
  while (out.length < limit) {
    const entries = await fetch(cursor, chunk);
    for (const entry of entries) {
      out.push(entry);
      bytes += entryBytes(entry);
      cursor = seqOfId(entry[0]);
      if (bytes >= maxBytes || out.length >= limit) return out;
    }
    if (entries.length < chunk) return out;
    const average = bytes / out.length;
    chunk = Math.max(1, Math.min(limit - out.length, Math.floor((maxBytes - bytes) / average)));
  }
  return out;
}

/** A retention limit as the append script takes it: -1 for none. */
const scriptLimit = (value: number): number => (Number.isFinite(value) ? value : -1);

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
function redisStoreBackend(client: Redis, keys: RedisKeys, retention: TopicRetention): StoreBackend {
  const scripted = client as ScriptedRedis;
  if (typeof scripted.sharedSessionAppend !== 'function') {
    // EVALSHA with a fallback to EVAL: the script's text crosses the network once per connection.
    client.defineCommand('sharedSessionAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT });
  }
  const limits = [scriptLimit(retention.maxChanges), scriptLimit(retention.maxBytes), scriptLimit(retention.maxAgeMs)];

  /**
   * Writes a batch: its appends grouped by topic (in order), one script call per topic (or per
   * {@link REDIS_APPENDS_PER_SCRIPT}), all calls in one pipeline — one write to the socket and one
   * round trip for the batch. A call that fails fails its appends only.
   */
  const writeBatch = async (batch: readonly PendingAppend[]): Promise<OpOutcome<AppendResult>[]> => {
    const calls = new Map<string, number[]>();
    batch.forEach(({ topic }, i) => {
      const indexes = calls.get(topic);
      if (indexes === undefined) calls.set(topic, [i]);
      else indexes.push(i);
    });
    const pipeline = client.pipeline() as unknown as ScriptedPipeline;
    const chunks: number[][] = [];
    for (const [topic, indexes] of calls) {
      for (let start = 0; start < indexes.length; start += REDIS_APPENDS_PER_SCRIPT) {
        const chunk = indexes.slice(start, start + REDIS_APPENDS_PER_SCRIPT);
        const args: Array<string | number> = [keys.changes(topic), ...limits];
        for (const i of chunk) {
          const { change } = batch[i] as PendingAppend;
          args.push(change.clientId ?? '', change.record, change.bytes, change.publishedAt);
        }
        pipeline.sharedSessionAppend(keys.log(topic), keys.clientIds(topic), keys.retainedBytes(topic), ...args);
        chunks.push(chunk);
      }
    }
    const replies = await pipeline.exec();
    if (replies === null) throw new Error('the Redis pipeline was discarded');
    const outcomes: OpOutcome<AppendResult>[] = new Array(batch.length);
    chunks.forEach((chunk, c) => {
      const [error, result] = replies[c] ?? [new Error('no reply to the append script'), undefined];
      chunk.forEach((i, k) => {
        const { topic, change } = batch[i] as PendingAppend;
        const reply = Array.isArray(result) ? (result[k] as string[] | undefined) : undefined;
        const id = reply?.[0];
        if (error !== null || id === undefined) {
          outcomes[i] = { ok: false, error: error ?? new Error('the append script returned no seq') };
          return;
        }
        const seq = seqOfId(id);
        const original = reply?.[1];
        outcomes[i] = {
          ok: true,
          value:
            original === undefined
              ? { change: storedChange(topic, seq, change), duplicate: false }
              : { change: decodeChangeRecord(topic, seq, original), duplicate: true },
        };
      });
    });
    return outcomes;
  };

  const appends = new GroupCommit<PendingAppend, AppendResult>(
    { write: writeBatch },
    { maxOps: GROUP_COMMIT_MAX_OPS, maxBytes: GROUP_COMMIT_MAX_BYTES, size: ({ change }) => change.bytes },
  );

  return {
    append(topic, change) {
      return appends.submit({ topic, change });
    },

    async read(topic, after, limit, maxBytes) {
      // An incomplete id `n` starts at `n-0`, the entry of seq n.
      const fetch = async (cursor: number, count: number) =>
        (await client.xrange(keys.log(topic), String(cursor + 1), '+', 'COUNT', count)) as StreamEntry[];
      const entries = await readChunked(fetch, after, limit, maxBytes);
      return entries.map((entry) => changeOfEntry(topic, entry));
    },

    async readBefore(topic, before, limit, maxBytes) {
      // An incomplete end id `n` ends at `n-<max>`, so `cursor - 1` includes the entry of that seq.
      const fetch = async (cursor: number, count: number) =>
        cursor <= 1
          ? []
          : ((await client.xrevrange(keys.log(topic), String(cursor - 1), '-', 'COUNT', count)) as StreamEntry[]);
      const entries = await readChunked(fetch, before, limit, maxBytes);
      return entries.reverse().map((entry) => changeOfEntry(topic, entry));
    },

    async head(topic) {
      const entry = await lastEntry(client, keys, topic);
      return entry === undefined ? 0 : seqOfId(entry[0]);
    },

    async ping() {
      await client.ping();
    },

    async close() {
      await appends.drain();
    },
  };
}

/**
 * A {@link TopicStore} over a Redis client the caller owns. `close()` stops the store, not the client.
 *
 * @param client - a command connection
 * @param keys - key and channel names
 */
export function createRedisTopicStore(
  client: Redis,
  keys: RedisKeys,
  retention: TopicRetention = DEFAULT_RETENTION,
): TopicStore {
  return defineTopicStore(redisStoreBackend(client, keys, retention));
}

/**
 * Opens the Redis {@link TopicStore}: the store for several server processes behind a load
 * balancer (spec §7). Each topic's log is a Redis Stream whose entry ids are the seqs; the
 * exactly-once state of publishes is a hash clientId → seq next to it, shared by every process.
 * One Lua script appends atomically (clientId check, seq, XADD, the clientId's seq, and the
 * PUBLISH that the change feed of every process receives), so the seq stays gap-free and
 * authoritative however many processes append at once. Appends are pipelined: those that arrive
 * while a batch is on its way form the next one, whose appends of each topic go into one script
 * call, and all its calls into one pipeline (one round trip per batch, not per append); each
 * append resolves when Redis has run it. A call that fails rejects its own appends (those it ran
 * before the failure stay stored, as Redis does not roll a script back: a retry with the same
 * clientId is answered as a duplicate). Reading after a cursor is an XRANGE from
 * `<cursor + 1>-0`: a seek, whatever the log's length.
 *
 * Durability is Redis's: configure AOF (`appendonly yes`) or RDB snapshots for topics that must
 * survive a Redis restart. Each topic keeps at most its `retention` (inside the append script).
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
  const retention = resolveRetention(options.retention);
  const client = await connectRedis(options.url);
  // QUIT is queued behind the pending commands, so pending appends complete first.
  const backend = redisStoreBackend(client, keys, retention);
  return defineTopicStore({
    ...backend,
    async close() {
      await backend.close(); // the pending appends first
      await quitRedis(client);
    },
  });
}
