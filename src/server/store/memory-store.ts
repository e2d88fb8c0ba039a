import type { JsonValue } from '../../protocol/messages.js';
import { ClientIdSeqs } from './client-id-seqs.js';
import { capBytes, defineTopicStore, storedChange } from './preamble.js';
import { overRetention, resolveRetention, type TopicRetention } from './retention.js';
import type { StoredChange, TopicStore } from './topic-store.js';

/** A retained change and the bytes its record counts for retention. */
interface MemoryEntry {
  change: StoredChange;
  bytes: number;
}

interface MemoryTopic {
  /** Retained changes, ascending: `entries[start + i].change.seq === first + i`. */
  entries: MemoryEntry[];
  /** Index of the oldest retained entry (entries before it were trimmed, compacted from time to time). */
  start: number;
  /** Last seq appended (kept when everything else is trimmed). */
  head: number;
  /** Bytes of the retained entries. */
  bytes: number;
  /** clientId → seq, for retained changes. */
  seen: ClientIdSeqs;
}

/**
 * Options of {@link createMemoryTopicStore}. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: MemoryTopicStoreOptions = { retention: { maxChanges: 1_000 } };
 * ```
 */
export interface MemoryTopicStoreOptions {
  /** What each topic keeps. Default `DEFAULT_RETENTION`. */
  retention?: Partial<TopicRetention>;
}

/**
 * Creates a {@link TopicStore} that keeps every topic in memory: for tests and single-process
 * servers whose topics may be lost on exit. Data is kept as a frozen JSON copy, so it normalises
 * exactly like the durable stores and the wire do, and no caller can change a stored change.
 * Each topic keeps at most its `retention`; the oldest changes (and their clientIds) go first.
 *
 * Import from `shared-session/server`.
 *
 * @param options - retention
 * @returns an open store; `close()` drops its contents
 *
 * @example
 * ```ts
 * import { createMemoryTopicStore, createSessionServer } from 'shared-session/server';
 *
 * const server = await createSessionServer({ port: 0, auth: { secret }, store: createMemoryTopicStore() });
 * ```
 */
export function createMemoryTopicStore(options: MemoryTopicStoreOptions = {}): TopicStore {
  const retention = resolveRetention(options.retention);
  const topics = new Map<string, MemoryTopic>();

  const firstSeq = (log: MemoryTopic): number => log.head - (log.entries.length - log.start) + 1;
  /** The retained entries with seq in [from, to], ascending. */
  const slice = (log: MemoryTopic | undefined, from: number, to: number): MemoryEntry[] => {
    if (log === undefined) return [];
    const first = firstSeq(log);
    const lo = Math.max(from, first);
    const hi = Math.min(to, log.head);
    if (hi < lo) return [];
    return log.entries.slice(log.start + (lo - first), log.start + (hi - first) + 1);
  };
  const copies = (entries: MemoryEntry[]): StoredChange[] => entries.map(({ change }) => ({ ...change }));
  const size = (entry: MemoryEntry): number => entry.bytes;

  const trim = (log: MemoryTopic, now: number): void => {
    for (;;) {
      const oldest = log.entries[log.start];
      const count = log.entries.length - log.start;
      if (oldest === undefined) return;
      const state = { count, bytes: log.bytes, oldestPublishedAt: oldest.change.publishedAt, newestPublishedAt: now };
      if (!overRetention(retention, state)) break;
      log.entries[log.start] = undefined as unknown as MemoryEntry; // released for the collector
      log.start++;
      log.bytes -= oldest.bytes;
      const { clientId } = oldest.change;
      if (clientId !== undefined) log.seen.remove(clientId, oldest.change.seq);
    }
    // Compact once half of the array is trimmed slots: amortised O(1) per trimmed change.
    if (log.start > 1024 && log.start * 2 > log.entries.length) {
      log.entries = log.entries.slice(log.start);
      log.start = 0;
    }
  };

  return defineTopicStore({
    // Everything below runs synchronously within one call, so appends are serialised by construction.
    async append(topic, newChange) {
      let log = topics.get(topic);
      if (log === undefined)
        topics.set(topic, (log = { entries: [], start: 0, head: 0, bytes: 0, seen: new ClientIdSeqs() }));
      const { clientId } = newChange;
      const seenSeq = clientId === undefined ? undefined : log.seen.seqOf(clientId);
      const original = seenSeq === undefined ? undefined : slice(log, seenSeq, seenSeq)[0];
      if (original !== undefined) return { change: { ...original.change }, duplicate: true };
      const data = deepFreeze(JSON.parse(newChange.json) as JsonValue);
      const change = storedChange(topic, log.head + 1, { ...newChange, data });
      if (clientId !== undefined) log.seen.add(clientId, change.seq);
      log.entries.push({ change, bytes: newChange.bytes });
      log.head = change.seq;
      log.bytes += newChange.bytes;
      trim(log, newChange.publishedAt);
      return { change: { ...change }, duplicate: false };
    },

    async read(topic, after, limit, maxBytes) {
      const log = topics.get(topic);
      // Retention may have dropped the changes right after `after`: read from the first retained.
      const from = log === undefined ? after + 1 : Math.max(after + 1, firstSeq(log));
      const entries = slice(log, from, from + limit - 1);
      return copies(capBytes(entries, size, maxBytes, 'first'));
    },

    async readBefore(topic, before, limit, maxBytes) {
      const log = topics.get(topic);
      const to = Math.min(before - 1, log?.head ?? 0);
      const entries = slice(log, to - limit + 1, to);
      return copies(capBytes(entries, size, maxBytes, 'last'));
    },

    async head(topic) {
      return topics.get(topic)?.head ?? 0;
    },

    async ping() {},

    async close() {
      topics.clear();
    },
  });
}

function deepFreeze(value: JsonValue): JsonValue {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
