import { DEFAULT_RETAIN_AGE_MS, DEFAULT_RETAIN_BYTES, DEFAULT_RETAIN_CHANGES } from '../constants.js';

/**
 * Retention of the topic logs (spec §7): how much each topic keeps, shared by every store.
 *
 * @module
 */

/**
 * How much a topic's log keeps; the oldest changes are dropped first, inside the append that
 * passed a limit (the newest change is always kept, so `head` never goes back). Every store takes
 * it as its `retention` option; a server passes `limits.retention` to the stores it opens.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const store = createMemoryTopicStore({ retention: { maxChanges: 10_000, maxAgeMs: 7 * 24 * 3600_000 } });
 * ```
 */
export interface TopicRetention {
  /** Most changes kept per topic. Default {@link DEFAULT_RETAIN_CHANGES}. */
  maxChanges: number;
  /** Most bytes of stored records (data JSON plus a small envelope) per topic. Default {@link DEFAULT_RETAIN_BYTES}. */
  maxBytes: number;
  /** Oldest change kept, in ms of age at the next append of its topic. Default {@link DEFAULT_RETAIN_AGE_MS} (none). */
  maxAgeMs: number;
}

/** The defaults of {@link TopicRetention}. Import from `shared-session/server`. */
export const DEFAULT_RETENTION: Readonly<TopicRetention> = Object.freeze({
  maxChanges: DEFAULT_RETAIN_CHANGES,
  maxBytes: DEFAULT_RETAIN_BYTES,
  maxAgeMs: DEFAULT_RETAIN_AGE_MS,
});

/**
 * Checks a retention option and fills in its defaults.
 *
 * @param option - any subset of {@link TopicRetention}
 * @throws TypeError for a limit that is not a positive number (`maxChanges` an integer)
 */
export function resolveRetention(option: Partial<TopicRetention> | undefined): TopicRetention {
  if (option === undefined) return DEFAULT_RETENTION;
  if (typeof option !== 'object' || option === null) throw new TypeError('"retention" must be an object');
  const maxChanges = option.maxChanges ?? DEFAULT_RETAIN_CHANGES;
  if (!Number.isSafeInteger(maxChanges) || maxChanges < 1)
    throw new TypeError('"retention.maxChanges" must be a positive integer');
  const positive = (value: number, name: string): number => {
    if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`"retention.${name}" must be a positive number`);
    return value;
  };
  return {
    maxChanges,
    maxBytes: positive(option.maxBytes ?? DEFAULT_RETAIN_BYTES, 'maxBytes'),
    maxAgeMs: positive(option.maxAgeMs ?? DEFAULT_RETAIN_AGE_MS, 'maxAgeMs'),
  };
}

/** A topic's log as retention sees it, after an append. */
export interface RetainedLog {
  /** Changes kept, the new one included. */
  count: number;
  /** Their bytes. */
  bytes: number;
  /** `publishedAt` of the oldest. */
  oldestPublishedAt: number;
  /** `publishedAt` of the change just appended (retention's "now"). */
  newestPublishedAt: number;
}

/**
 * Whether the oldest change of a log must go: the log passes a limit and keeps more than one change.
 *
 * @param retention - the limits
 * @param log - the log after the append
 */
export function overRetention(retention: TopicRetention, log: RetainedLog): boolean {
  if (log.count <= 1) return false;
  return (
    log.count > retention.maxChanges ||
    log.bytes > retention.maxBytes ||
    log.newestPublishedAt - log.oldestPublishedAt > retention.maxAgeMs
  );
}
