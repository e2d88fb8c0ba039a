import type { SessionErrorCode } from './error-codes.js';
import type { ClientMessage, HelloMessage, HistoryRequestMessage, JsonValue, ServerMessage } from './messages.js';
import { hasLoneSurrogate, validateTopicName } from './topic-name.js';

// Re-exported for the modules that read the limit from here.
export { MAX_TOPIC_LENGTH } from './topic-name.js';

/**
 * Result of parsing one frame: the message, or why it was refused. `code` is set when the frame
 * was readable but a field of a request had a bad value the answer should name
 * (`INVALID_ARGUMENT`, for `history`); otherwise the refusal is a `BAD_MESSAGE`.
 */
export type ParseResult<T> =
  | { ok: true; message: T }
  | { ok: false; id?: number; reason: string; code?: Extract<SessionErrorCode, 'INVALID_ARGUMENT'> };

/**
 * Deepest nesting of arrays and objects a frame may have (the frame object itself is level 1)
 * unless the caller sets another: deeper frames are refused by a scan of the text, before
 * `JSON.parse` spends time on them.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting {@link parseServerMessage} accepts by default: the host trusts its server, this
 * only guards the host's thread. Above any `maxJsonDepth` a server allows for client frames
 * (changes and `history` answers nest data two levels deeper than the `publish` that carried it).
 */
export const MAX_SERVER_FRAME_DEPTH = 1024;

/** Options of {@link parseClientMessage} and {@link parseServerMessage}. */
export interface ParseOptions {
  /** Deepest nesting accepted. Default {@link DEFAULT_MAX_JSON_DEPTH}. */
  maxDepth?: number;
}

/**
 * Whether `text` nests arrays and objects deeper than `maxDepth`, by one pass over the text that
 * skips strings (brackets inside strings do not count). Stops at the first bracket over the limit,
 * so a `[[[[…` bomb costs `maxDepth` characters. Not a JSON validator: `JSON.parse` still decides
 * what is valid.
 *
 * @param text - a frame's text
 * @param maxDepth - deepest nesting allowed
 * @example
 * ```ts
 * exceedsJsonDepth('[[1]]', 1); // true
 * ```
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  // Each level opens with one character: a text no longer than the limit cannot pass it (most
  // server frames are shorter than the host's limit, so the host skips the pass).
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Longest session id and client id, in characters. */
const MAX_ID_LENGTH = 128;

type Json = { [key: string]: unknown };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTopic = (v: unknown): v is string => validateTopicName(v) === undefined;
/** Client ids are store keys: well-formed UTF-16, like topics. */
const isClientId = (v: unknown): v is string =>
  isNonEmptyString(v) && v.length <= MAX_ID_LENGTH && !hasLoneSurrogate(v);
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The parsed object, or why the frame is not one; `id` is kept so that the error can answer it. */
function decode(raw: string, maxDepth: number): { ok: true; value: Json } | { ok: false; reason: string; id?: number } {
  if (exceedsJsonDepth(raw, maxDepth)) return { ok: false, reason: `frame is nested deeper than ${maxDepth} levels` };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  if (!isObject(value)) return { ok: false, reason: 'frame must be a JSON object' };
  if (typeof value.type !== 'string') {
    const reason = 'frame has no string "type"';
    return isId(value.id) ? { ok: false, reason, id: value.id } : { ok: false, reason };
  }
  return { ok: true, value };
}

/** Why `topic` is refused (called only for a refused one). */
const topicProblem = (topic: unknown): string => validateTopicName(topic) ?? '"topic" is invalid';

function fail<T>(reason: string, value?: Json): ParseResult<T> {
  const id = value && isId(value.id) ? value.id : undefined;
  return id === undefined ? { ok: false, reason } : { ok: false, id, reason };
}

/** A readable request with a bad argument: answered `INVALID_ARGUMENT` with its id. */
function invalid<T>(reason: string, id: number): ParseResult<T> {
  return { ok: false, id, reason, code: 'INVALID_ARGUMENT' };
}

/** `history`: an id, then every field's problem answered INVALID_ARGUMENT. */
function parseHistory(v: Json): ParseResult<ClientMessage> {
  if (!isId(v.id)) return fail('"id" must be a non-negative integer', v);
  if (!isTopic(v.topic)) return invalid(topicProblem(v.topic), v.id);
  const message: HistoryRequestMessage = { type: 'history', id: v.id, topic: v.topic };
  if (v.before !== undefined) {
    if (!isSeq(v.before) || v.before < 1) return invalid('"before" must be a positive integer', v.id);
    message.before = v.before;
  }
  if (v.limit !== undefined) {
    if (!isSeq(v.limit) || v.limit < 1) return invalid('"limit" must be a positive integer', v.id);
    message.limit = v.limit;
  }
  return { ok: true, message };
}

/**
 * Parses and validates a frame sent by a client. Never throws: a malformed frame yields
 * `{ ok: false, reason }` with the request `id` when one could be read. A frame nested deeper
 * than `options.maxDepth` is refused before it is parsed.
 */
export function parseClientMessage(raw: string, options: ParseOptions = {}): ParseResult<ClientMessage> {
  const decoded = decode(raw, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
  if (!decoded.ok) return decoded;
  const v = decoded.value;
  const ok = (message: ClientMessage): ParseResult<ClientMessage> => ({ ok: true, message });
  switch (v.type) {
    case 'hello': {
      if (!isId(v.protocol)) return fail('"protocol" must be a non-negative integer', v);
      if (!isNonEmptyString(v.token)) return fail('"token" must be a non-empty string', v);
      if (!isNonEmptyString(v.sessionId) || v.sessionId.length > MAX_ID_LENGTH)
        return fail(`"sessionId" must be a string of 1–${MAX_ID_LENGTH} characters`, v);
      if (v.schemaVersion !== undefined && !Number.isSafeInteger(v.schemaVersion))
        return fail('"schemaVersion" must be an integer', v);
      if (v.buildId !== undefined && typeof v.buildId !== 'string') return fail('"buildId" must be a string', v);
      const hello: HelloMessage = { type: 'hello', protocol: v.protocol, token: v.token, sessionId: v.sessionId };
      if (v.schemaVersion !== undefined) hello.schemaVersion = v.schemaVersion as number;
      if (v.buildId !== undefined) hello.buildId = v.buildId;
      return ok(hello);
    }
    case 'update-token':
      if (!isId(v.id)) return fail('"id" must be a non-negative integer', v);
      if (!isNonEmptyString(v.token)) return fail('"token" must be a non-empty string', v);
      return ok({ type: 'update-token', id: v.id, token: v.token });
    case 'ping':
      if (!isId(v.id)) return fail('"id" must be a non-negative integer', v);
      return ok({ type: 'ping', id: v.id });
    case 'end':
      return ok({ type: 'end' });
    case 'subscribe':
      if (!isId(v.id)) return fail('"id" must be a non-negative integer', v);
      if (!isTopic(v.topic)) return fail(topicProblem(v.topic), v);
      if (!isSeq(v.after)) return fail('"after" must be a non-negative integer', v);
      return ok({ type: 'subscribe', id: v.id, topic: v.topic, after: v.after });
    case 'unsubscribe':
      if (!isTopic(v.topic)) return fail(topicProblem(v.topic), v);
      return ok({ type: 'unsubscribe', topic: v.topic });
    case 'publish':
      if (!isId(v.id)) return fail('"id" must be a non-negative integer', v);
      if (!isTopic(v.topic)) return fail(topicProblem(v.topic), v);
      if (!isClientId(v.clientId))
        return fail(`"clientId" must be a well-formed string of 1–${MAX_ID_LENGTH} characters`, v);
      if (!('data' in v)) return fail('"data" is missing', v);
      return ok({ type: 'publish', id: v.id, topic: v.topic, clientId: v.clientId, data: v.data as JsonValue });
    case 'history':
      return parseHistory(v);
    default:
      return fail(`unknown message type ${JSON.stringify(String(v.type).slice(0, 32))}`, v);
  }
}

/**
 * Parses a frame sent by the server. Validates the discriminant and the fields the host relies on;
 * never throws.
 */
export function parseServerMessage(raw: string, options: ParseOptions = {}): ParseResult<ServerMessage> {
  const decoded = decode(raw, options.maxDepth ?? MAX_SERVER_FRAME_DEPTH);
  if (!decoded.ok) return decoded;
  const v = decoded.value;
  const ok = (message: ServerMessage): ParseResult<ServerMessage> => ({ ok: true, message });
  switch (v.type) {
    case 'welcome':
      if (!isNonEmptyString(v.sessionId) || !isNonEmptyString(v.userId) || !Array.isArray(v.roles))
        return fail('malformed welcome', v);
      if (typeof v.serverTime !== 'number') return fail('malformed welcome', v);
      return ok(v as unknown as ServerMessage);
    case 'token-updated':
    case 'pong':
    case 'subscribed':
    case 'published':
      if (!isId(v.id)) return fail(`malformed ${v.type}`, v);
      return ok(v as unknown as ServerMessage);
    case 'history':
      if (!isId(v.id) || !isTopic(v.topic) || !Array.isArray(v.changes) || typeof v.hasMore !== 'boolean')
        return fail('malformed history', v);
      return ok(v as unknown as ServerMessage);
    case 'history-trimmed':
      if (!isTopic(v.topic) || !isSeq(v.after) || !isSeq(v.first)) return fail('malformed history-trimmed', v);
      return ok(v as unknown as ServerMessage);
    case 'change':
      if (!isTopic(v.topic) || !isSeq(v.seq) || typeof v.publishedAt !== 'number') return fail('malformed change', v);
      return ok(v as unknown as ServerMessage);
    case 'error':
      if (typeof v.code !== 'string' || typeof v.message !== 'string') return fail('malformed error', v);
      return ok(v as unknown as ServerMessage);
    default:
      return fail(`unknown message type ${JSON.stringify(String(v.type).slice(0, 32))}`, v);
  }
}
