import type { JsonValue } from '../../protocol/messages.js';
import type { AppendOptions } from './topic-store.js';
import { measureJson } from '../../shared/json-size.js';

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

// With the u flag a paired surrogate is one code point, so this matches lone surrogates only.
// They are refused because UTF-8 encoders replace them with U+FFFD: two names would share a key.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Throws unless `topic` is a non-empty, well-formed string without NUL, of at most {@link MAX_STORED_TOPIC_BYTES}. */
export function assertTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('"topic" must be a non-empty string');
  // NUL separates the parts of LMDB's ordered-binary keys; a topic containing it could alias another.
  if (topic.includes('\u0000') || LONE_SURROGATE.test(topic))
    throw new TypeError('"topic" must not contain NUL characters or lone surrogates');
  if (Buffer.byteLength(topic) > MAX_STORED_TOPIC_BYTES)
    throw new RangeError(`"topic" must be at most ${MAX_STORED_TOPIC_BYTES} bytes in UTF-8`);
}

/** Throws unless `value` is a non-negative safe integer. */
export function assertCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`"${name}" must be a non-negative integer`);
}

/** Validates the options of `append` and fills in `publishedAt`. */
export function normalizeAppendOptions(options: AppendOptions | undefined): { clientId?: string; publishedAt: number } {
  if (options === undefined) return { publishedAt: Date.now() };
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { clientId, publishedAt = Date.now() } = options;
  if (typeof publishedAt !== 'number' || !Number.isFinite(publishedAt))
    throw new TypeError('"publishedAt" must be a finite number');
  if (clientId === undefined) return { publishedAt };
  if (typeof clientId !== 'string' || clientId.length === 0)
    throw new TypeError('"clientId" must be a non-empty string');
  if (LONE_SURROGATE.test(clientId)) throw new TypeError('"clientId" must not contain lone surrogates');
  if (Buffer.byteLength(clientId) > MAX_STORED_CLIENT_ID_BYTES)
    throw new RangeError(`"clientId" must be at most ${MAX_STORED_CLIENT_ID_BYTES} bytes in UTF-8`);
  return { clientId, publishedAt };
}

/**
 * Serialises `data` as JSON, the form every store keeps, or throws a `TypeError` when it has none
 * (`undefined`, a function, a BigInt, a cycle).
 */
export function toJson(data: JsonValue): string {
  const measured = measureJson(data);
  if (!measured.ok) throw new TypeError(measured.reason, { cause: measured.cause });
  return measured.json;
}
