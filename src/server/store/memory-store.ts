import type { JsonValue } from '../../protocol/messages.js';
import type { AppendOptions, AppendResult, StoredChange, TopicStore } from './topic-store.js';
import { assertCount, assertTopic, normalizeAppendOptions, toJson } from './validate.js';

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
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new Error('the topic store is closed');
  };

  return {
    // Everything below runs synchronously within one call, so appends are serialised by construction.
    async append(topic: string, data: JsonValue, options?: AppendOptions): Promise<AppendResult> {
      assertOpen();
      assertTopic(topic);
      const { clientId, publishedAt } = normalizeAppendOptions(options);
      const stored = deepFreeze(JSON.parse(toJson(data)) as JsonValue);
      let log = topics.get(topic);
      if (log === undefined) topics.set(topic, (log = { changes: [], seen: new Map() }));
      if (clientId !== undefined) {
        const seq = log.seen.get(clientId);
        if (seq !== undefined) return { change: { ...log.changes[seq - 1] }, duplicate: true };
      }
      const change: StoredChange = { topic, seq: log.changes.length + 1, data: stored, publishedAt };
      if (clientId !== undefined) {
        change.clientId = clientId;
        log.seen.set(clientId, change.seq);
      }
      log.changes.push(change);
      return { change: { ...change }, duplicate: false };
    },

    async read(topic: string, after: number, limit: number): Promise<StoredChange[]> {
      assertOpen();
      assertTopic(topic);
      assertCount('after', after);
      assertCount('limit', limit);
      const changes = topics.get(topic)?.changes ?? [];
      // seq n is at index n - 1, so the changes after `after` start at index `after`.
      return changes.slice(after, after + limit).map((change) => ({ ...change }));
    },

    async head(topic: string): Promise<number> {
      assertOpen();
      assertTopic(topic);
      return topics.get(topic)?.changes.length ?? 0;
    },

    async close(): Promise<void> {
      closed = true;
      topics.clear();
    },
  };
}

function deepFreeze(value: JsonValue): JsonValue {
  if (typeof value === 'object' && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
