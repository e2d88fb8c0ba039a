/**
 * What a topic name may be: the one rule the wire parser, the server's data plane and every topic
 * store check (and the page, before a call leaves the tab). Stores apply it with two relaxations
 * ({@link TopicNameRules}).
 *
 * A topic name is a string of 1–{@link MAX_TOPIC_LENGTH} UTF-16 code units (what `string.length`
 * counts) without control characters and without lone surrogates:
 *
 * - control characters (`\p{Cc}`: U+0000–U+001F, U+007F and U+0080–U+009F) are invisible in logs
 *   and UIs, so two topics that look alike could differ; NUL also separates the parts of LMDB's
 *   ordered keys, where a topic containing it could alias another;
 * - a lone surrogate has no UTF-8 form: encoders replace it with U+FFFD, so two names would share
 *   one store key.
 *
 * @module
 */

/** Longest topic name, in UTF-16 code units (at most 768 bytes in UTF-8). */
export const MAX_TOPIC_LENGTH = 256;

/** Matches a control character (C0, DEL, C1). */
const CONTROL_CHARACTER = /\p{Cc}/u;

/** With the `u` flag a paired surrogate is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Options of {@link validateTopicName}. The defaults are the protocol's rule; a topic store, which
 * holds whatever its callers give it (`server.publish`, direct use), relaxes what only protects
 * people reading topic names and keeps what protects its keys.
 */
export interface TopicNameRules {
  /** Longest name accepted, in UTF-16 code units. Default {@link MAX_TOPIC_LENGTH}. */
  maxLength?: number;
  /**
   * Which control characters are refused: `'all'` (default) or only `'nul'`, the one that
   * separates the parts of an ordered store key.
   */
  refuseControl?: 'all' | 'nul';
}

/**
 * Checks a topic name.
 *
 * @param name - the value given as a topic
 * @param rules - relaxations for stores (default: the protocol's rule)
 * @returns why the name is refused (a lowercase sentence naming `"topic"`), or `undefined` when it
 *   is a valid topic name
 * @example
 * ```ts
 * const problem = validateTopicName(topic);
 * if (problem !== undefined) throw new TypeError(problem);
 * ```
 */
export function validateTopicName(name: unknown, rules: TopicNameRules = {}): string | undefined {
  const maxLength = rules.maxLength ?? MAX_TOPIC_LENGTH;
  if (typeof name !== 'string' || name.length === 0 || name.length > maxLength) {
    return `"topic" must be ${maxLength === Infinity ? 'a non-empty string' : `a string of 1–${maxLength} characters`}`;
  }
  if (rules.refuseControl === 'nul') {
    if (name.includes('\u0000')) return '"topic" must not contain NUL characters';
  } else if (CONTROL_CHARACTER.test(name)) {
    return '"topic" must not contain control characters';
  }
  if (LONE_SURROGATE.test(name)) return '"topic" must be well-formed UTF-16 (no lone surrogates)';
  return undefined;
}

/**
 * Whether `text` has a lone surrogate (no UTF-8 form). Client ids share the rule: they are store
 * keys too.
 *
 * @param text - any string
 */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}
