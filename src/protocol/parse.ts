import type { ClientMessage, HelloMessage, JsonValue, ServerMessage } from './messages.js';
import { hasLoneSurrogate, validateTopicName } from './topic-name.js';

// Re-exported for the modules that read the limit from here.
export { MAX_TOPIC_LENGTH } from './topic-name.js';

/** Result of parsing one frame: the message, or why it was refused. */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; id?: number; reason: string };

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
function decode(raw: string): { ok: true; value: Json } | { ok: false; reason: string; id?: number } {
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

/**
 * Parses and validates a frame sent by a client. Never throws: a malformed frame yields
 * `{ ok: false, reason }` with the request `id` when one could be read.
 */
export function parseClientMessage(raw: string): ParseResult<ClientMessage> {
  const decoded = decode(raw);
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
    default:
      return fail(`unknown message type ${JSON.stringify(String(v.type).slice(0, 32))}`, v);
  }
}

/**
 * Parses a frame sent by the server. Validates the discriminant and the fields the host relies on;
 * never throws.
 */
export function parseServerMessage(raw: string): ParseResult<ServerMessage> {
  const decoded = decode(raw);
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
    case 'change':
      if (!isTopic(v.topic) || !isSeq(v.seq) || typeof v.publishedAt !== 'number') return fail('malformed change', v);
      return ok(v as unknown as ServerMessage);
    case 'history':
      if (!isId(v.id) || !Array.isArray(v.changes) || typeof v.hasMore !== 'boolean')
        return fail('malformed history', v);
      return ok(v as unknown as ServerMessage);
    case 'error':
      if (typeof v.code !== 'string' || typeof v.message !== 'string') return fail('malformed error', v);
      return ok(v as unknown as ServerMessage);
    default:
      return fail(`unknown message type ${JSON.stringify(String(v.type).slice(0, 32))}`, v);
  }
}
