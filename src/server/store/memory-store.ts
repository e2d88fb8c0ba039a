import type { JsonValue } from '../../protocol/messages.js';
import { defineTopicStore, storedChange } from './preamble.js';
import type { StoredChange, TopicStore } from './topic-store.js';

interface MemoryTopic {
  /** `changes[i].seq === i + 1`. */
  changes: StoredChange[];
  /** clientId → seq. */
  seen: Map<string, number>;
}

/**
 * Creates a {@link TopicStore} that keeps every topic in memory: for tests and single-process
 * servers whose topics may be lost on exit. Data is kept as a frozen JSON copy, so it normalises
 * exactly like the durable stores and the wire do, and no caller can change a stored change.
 *
 * Import from `shared-session/server`.
 *
 * @returns an open store; `close()` drops its contents
 *
 * @example
 * ```ts
 * import { createMemoryTopicStore, createSessionServer } from 'shared-session/server';
 *
 * const server = await createSessionServer({ port: 0, auth: { secret }, store: createMemoryTopicStore() });
 * ```
 */
export function createMemoryTopicStore(): TopicStore {
  const topics = new Map<string, MemoryTopic>();
  return defineTopicStore({
    // Everything below runs synchronously within one call, so appends are serialised by construction.
    async append(topic, newChange) {
      let log = topics.get(topic);
      if (log === undefined) topics.set(topic, (log = { changes: [], seen: new Map() }));
      const { clientId } = newChange;
      const original = clientId === undefined ? undefined : log.changes[(log.seen.get(clientId) ?? 0) - 1];
      if (original !== undefined) return { change: { ...original }, duplicate: true };
      const data = deepFreeze(JSON.parse(newChange.json) as JsonValue);
      const change = storedChange(topic, log.changes.length + 1, { ...newChange, data });
      if (clientId !== undefined) log.seen.set(clientId, change.seq);
      log.changes.push(change);
      return { change: { ...change }, duplicate: false };
    },

    async read(topic, after, limit) {
      const changes = topics.get(topic)?.changes ?? [];
      // seq n is at index n - 1, so the changes after `after` start at index `after`.
      return changes.slice(after, after + limit).map((change) => ({ ...change }));
    },

    async head(topic) {
      return topics.get(topic)?.changes.length ?? 0;
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
