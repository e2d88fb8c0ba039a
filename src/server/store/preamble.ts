import type { JsonValue } from '../../protocol/messages.js';
import { hasLoneSurrogate, validateTopicName } from '../../protocol/topic-name.js';
import { measureJson, utf8Length } from '../../shared/json-size.js';
import type { AppendOptions, AppendResult, ReadOptions, StoredChange, TopicStore } from './topic-store.js';

/**
 * What every {@link TopicStore} implementation shares: the argument checks and normalisation of
 * the contract (`TypeError` for a bad argument, `RangeError` for one too long, every call rejected
 * after `close()`), the data serialised to JSON once, and the JSON record the durable stores keep.
 * An implementation writes a {@link StoreBackend} and wraps it with {@link defineTopicStore}.
 *
 * @module
 */

/**
 * Longest topic a {@link TopicStore} accepts, in UTF-8 bytes. Far above the protocol's
 * `MAX_TOPIC_LENGTH` (256 characters); it exists so that a topic plus a clientId always fit in an
 * LMDB key (1978 bytes), and every store enforces it so that all stores accept the same topics.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(topic) > MAX_STORED_TOPIC_BYTES) throw new RangeError('topic too long');
 * ```
 */
export const MAX_STORED_TOPIC_BYTES = 1024;

/**
 * Longest `clientId` a {@link TopicStore} accepts, in UTF-8 bytes (the protocol allows 128 characters).
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(clientId) > MAX_STORED_CLIENT_ID_BYTES) throw new RangeError('clientId too long');
 * ```
 */
export const MAX_STORED_CLIENT_ID_BYTES = 512;

/** A change about to be appended, its arguments checked: the data with its JSON text, time and clientId. */
export interface NewChange {
  data: JsonValue;
  /** `data` as JSON, serialised once by the preamble. */
  json: string;
  publishedAt: number;
  clientId: string | undefined;
  /** The JSON record a durable store keeps ({@link encodeChangeRecord}). */
  record: string;
  /** UTF-8 bytes of `record`: what retention's `maxBytes` and reads' `maxBytes` count. */
  bytes: number;
}

/**
 * A store implementation behind the preamble: its methods get valid arguments only (`limit` ≥ 1,
 * `before` ≥ 1, `maxBytes` > 0 or `Infinity`) and are never called after `close()`, which is
 * called once.
 */
export interface StoreBackend {
  append(topic: string, change: NewChange): Promise<AppendResult>;
  read(topic: string, after: number, limit: number, maxBytes: number): Promise<StoredChange[]>;
  readBefore(topic: string, before: number, limit: number, maxBytes: number): Promise<StoredChange[]>;
  head(topic: string): Promise<number>;
  /** Resolves when the backend can serve (a cheap round trip to its database). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wraps a backend into a {@link TopicStore} that checks and normalises every argument first and
 * refuses calls after `close()` (which is idempotent).
 *
 * @param backend - the implementation
 */
export function defineTopicStore(backend: StoreBackend): TopicStore {
  let closing: Promise<void> | undefined;
  const assertOpen = (): void => {
    if (closing !== undefined) throw new Error('the topic store is closed');
  };
  return {
    async append(topic, data, options) {
      assertOpen();
      assertTopic(topic);
      const { clientId, publishedAt } = normalizeAppendOptions(options);
      const measured = measureJson(data);
      if (!measured.ok) throw new TypeError(measured.reason, { cause: measured.cause });
      const record = encodeChangeRecord({ json: measured.json, publishedAt, clientId });
      const bytes = utf8Length(record);
      return backend.append(topic, { data, json: measured.json, publishedAt, clientId, record, bytes });
    },
    async read(topic, after, limit, options) {
      assertOpen();
      assertTopic(topic);
      assertCount('after', after);
      assertCount('limit', limit);
      const maxBytes = readLimit(options);
      return limit === 0 ? [] : backend.read(topic, after, limit, maxBytes);
    },
    async readBefore(topic, before, limit, options) {
      assertOpen();
      assertTopic(topic);
      assertCount('before', before);
      assertCount('limit', limit);
      const maxBytes = readLimit(options);
      return limit === 0 || before <= 1 ? [] : backend.readBefore(topic, before, limit, maxBytes);
    },
    async head(topic) {
      assertOpen();
      assertTopic(topic);
      return backend.head(topic);
    },
    async ping() {
      assertOpen();
      await backend.ping();
    },
    close() {
      closing ??= Promise.resolve().then(() => backend.close());
      return closing;
    },
  };
}

/**
 * Throws unless `topic` is a topic name a store can key: the protocol's rule without its length
 * limit (bounded in bytes instead, {@link MAX_STORED_TOPIC_BYTES}) and with only NUL refused among
 * the control characters.
 */
function assertTopic(topic: unknown): asserts topic is string {
  const problem = validateTopicName(topic, { maxLength: Infinity, refuseControl: 'nul' });
  if (problem !== undefined || typeof topic !== 'string') throw new TypeError(problem);
  if (utf8Length(topic) > MAX_STORED_TOPIC_BYTES)
    throw new RangeError(`"topic" must be at most ${MAX_STORED_TOPIC_BYTES} bytes in UTF-8`);
}

/** The byte limit of a read: `Infinity` when none is given. */
function readLimit(options: ReadOptions | undefined): number {
  if (options === undefined || options.maxBytes === undefined) return Number.POSITIVE_INFINITY;
  const { maxBytes } = options;
  if (typeof maxBytes !== 'number' || !(maxBytes > 0)) throw new TypeError('"maxBytes" must be a positive number');
  return maxBytes;
}

/**
 * Keeps the changes of a read that fit `maxBytes` (at least one): from the first when reading
 * forward, from the last when reading history (the newest page).
 *
 * @param changes - what the read found, ascending
 * @param sizes - the bytes of each
 * @param maxBytes - the read's limit
 * @param keep - which end to keep
 */
export function capBytes<T>(changes: T[], sizes: (change: T) => number, maxBytes: number, keep: 'first' | 'last'): T[] {
  if (maxBytes === Number.POSITIVE_INFINITY || changes.length <= 1) return changes;
  let bytes = 0;
  if (keep === 'first') {
    for (let i = 0; i < changes.length; i++) {
      bytes += sizes(changes[i] as T);
      if (bytes >= maxBytes) return changes.slice(0, i + 1);
    }
    return changes;
  }
  for (let i = changes.length - 1; i >= 0; i--) {
    bytes += sizes(changes[i] as T);
    if (bytes >= maxBytes) return changes.slice(i);
  }
  return changes;
}

/** Throws unless `value` is a non-negative safe integer. */
function assertCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`"${name}" must be a non-negative integer`);
}

/** Validates the options of `append` and fills in `publishedAt`. */
function normalizeAppendOptions(options: AppendOptions | undefined): Pick<NewChange, 'publishedAt' | 'clientId'> {
  if (options === undefined) return { clientId: undefined, publishedAt: Date.now() };
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { clientId, publishedAt = Date.now() } = options;
  if (typeof publishedAt !== 'number' || !Number.isFinite(publishedAt))
    throw new TypeError('"publishedAt" must be a finite number');
  if (clientId === undefined) return { clientId, publishedAt };
  if (typeof clientId !== 'string' || clientId.length === 0)
    throw new TypeError('"clientId" must be a non-empty string');
  if (hasLoneSurrogate(clientId)) throw new TypeError('"clientId" must not contain lone surrogates');
  if (utf8Length(clientId) > MAX_STORED_CLIENT_ID_BYTES)
    throw new RangeError(`"clientId" must be at most ${MAX_STORED_CLIENT_ID_BYTES} bytes in UTF-8`);
  return { clientId, publishedAt };
}

/**
 * The stored form of a new change: its fields, and its clientId only when it has one.
 *
 * @param topic - the change's topic
 * @param seq - the seq the store gave it
 * @param change - what was appended
 */
export function storedChange(topic: string, seq: number, change: NewChange): StoredChange {
  const stored: StoredChange = { topic, seq, data: change.data, publishedAt: change.publishedAt };
  if (change.clientId !== undefined) stored.clientId = change.clientId;
  return stored;
}

/** A change as the durable stores keep it, as JSON text; its topic and seq are the key. */
interface ChangeRecord {
  publishedAt: number;
  clientId?: string;
  data: JsonValue;
}

/**
 * The JSON text a durable store keeps for a change, composed around the data's JSON so that the
 * data is serialised once (and nothing can throw later, inside a store transaction).
 *
 * @param change - what was appended
 */
export function encodeChangeRecord(change: Pick<NewChange, 'json' | 'publishedAt' | 'clientId'>): string {
  const clientIdMember = change.clientId === undefined ? '' : `"clientId":${JSON.stringify(change.clientId)},`;
  return `{"publishedAt":${change.publishedAt},${clientIdMember}"data":${change.json}}`;
}

/** Matches the start of a record: its `publishedAt`, and its `clientId` as a JSON string literal. */
const RECORD_HEAD = /^\{"publishedAt":(-?[0-9.eE+-]+),(?:"clientId":("(?:[^"\\]|\\.)*"),)?"data":/;

/**
 * The `publishedAt` and `clientId` of a record, read from its start without parsing its data (a
 * store trimming its oldest changes needs only these).
 *
 * @param text - what {@link encodeChangeRecord} produced
 */
export function parseRecordHead(text: string): { publishedAt: number; clientId: string | undefined } {
  const match = RECORD_HEAD.exec(text);
  if (match === null) {
    const record = JSON.parse(text) as ChangeRecord;
    return { publishedAt: record.publishedAt, clientId: record.clientId };
  }
  return {
    publishedAt: Number(match[1]),
    clientId: match[2] === undefined ? undefined : (JSON.parse(match[2]) as string),
  };
}

/**
 * Builds a change from its key and the record text a store kept (or a channel message that starts
 * with the same fields).
 *
 * @param topic - the change's topic
 * @param seq - the change's seq
 * @param text - what {@link encodeChangeRecord} produced
 */
export function decodeChangeRecord(topic: string, seq: number, text: string): StoredChange {
  const record = JSON.parse(text) as ChangeRecord;
  const change: StoredChange = { topic, seq, data: record.data, publishedAt: record.publishedAt };
  if (record.clientId !== undefined) change.clientId = record.clientId;
  return change;
}
