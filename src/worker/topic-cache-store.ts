import type { IDBPDatabase } from 'idb';
import type { TopicChange } from '../protocol/host-api.js';
import { whileOpen, type HostDB } from './host-database.js';

/** What the host remembers of one topic for one user. */
export interface CachedTopic {
  /** Highest seq received without gaps (0 when nothing was received). */
  cursor: number;
  /** The newest cached changes, ascending and contiguous, ending at `cursor` when not empty. */
  changes: TopicChange[];
}

/** Persistence of the per-user topic caches and cursors. */
export interface TopicCacheStore {
  /** The cursor and at most `limit` newest cached changes of `topic` for `userId`. */
  load(userId: string, topic: string, limit: number): Promise<CachedTopic>;
  /** Stores `changes`, moves the cursor to `cursor`, and drops cached changes below `floor`. */
  save(userId: string, topic: string, changes: TopicChange[], cursor: number, floor: number): Promise<void>;
  /** Forgets one topic of one user (the server's log was reset). */
  reset(userId: string, topic: string): Promise<void>;
  /** Wipes every cached change and cursor of every user. */
  clear(): Promise<void>;
}

const strip = ({ topic, seq, data, publishedAt, clientId }: TopicChange): TopicChange => ({
  topic,
  seq,
  data,
  publishedAt,
  ...(clientId !== undefined && { clientId }),
});

/**
 * A {@link TopicCacheStore} over the host database (one transaction per save), or in memory when
 * `db` is undefined. Keys start with the user id, so one user's reads never reach another's data.
 *
 * @param db - the database from `openHostDatabase`
 */
export function createTopicCacheStore(db: IDBPDatabase<HostDB> | undefined): TopicCacheStore {
  return db ? whileOpen(db, idbTopicCache(db), memoryTopicCache()) : memoryTopicCache();
}

function idbTopicCache(db: IDBPDatabase<HostDB>): TopicCacheStore {
  const range = (userId: string, topic: string, from = 0, to = Number.MAX_SAFE_INTEGER) =>
    IDBKeyRange.bound([userId, topic, from], [userId, topic, to]);
  return {
    async load(userId, topic, limit) {
      try {
        const tx = db.transaction(['changes', 'cursors'], 'readonly');
        const cursorRecord = await tx.objectStore('cursors').get([userId, topic]);
        const changes: TopicChange[] = [];
        let cursor = await tx.objectStore('changes').openCursor(range(userId, topic), 'prev');
        while (cursor && changes.length < limit) {
          changes.push(strip(cursor.value));
          cursor = await cursor.continue();
        }
        changes.reverse();
        return { cursor: cursorRecord?.cursor ?? changes.at(-1)?.seq ?? 0, changes: contiguousTail(changes) };
      } catch {
        return { cursor: 0, changes: [] };
      }
    },
    async save(userId, topic, changes, cursor, floor) {
      try {
        const tx = db.transaction(['changes', 'cursors'], 'readwrite');
        const store = tx.objectStore('changes');
        for (const change of changes) void store.put({ ...strip(change), userId });
        if (floor > 1) void store.delete(range(userId, topic, 0, floor - 1));
        void tx.objectStore('cursors').put({ userId, topic, cursor });
        await tx.done;
      } catch {
        // Quota or a closed database: the live session goes on; resume will just fetch more.
      }
    },
    async reset(userId, topic) {
      try {
        const tx = db.transaction(['changes', 'cursors'], 'readwrite');
        void tx.objectStore('changes').delete(range(userId, topic));
        void tx.objectStore('cursors').delete([userId, topic]);
        await tx.done;
      } catch {
        // See save.
      }
    },
    async clear() {
      const tx = db.transaction(['changes', 'cursors'], 'readwrite');
      await Promise.all([tx.objectStore('changes').clear(), tx.objectStore('cursors').clear(), tx.done]);
    },
  };
}

function memoryTopicCache(): TopicCacheStore {
  const topics = new Map<string, CachedTopic>();
  const key = (userId: string, topic: string) => JSON.stringify([userId, topic]);
  return {
    load: async (userId, topic, limit) => {
      const entry = topics.get(key(userId, topic));
      return { cursor: entry?.cursor ?? 0, changes: entry ? entry.changes.slice(-limit) : [] };
    },
    save: async (userId, topic, changes, cursor, floor) => {
      const entry = topics.get(key(userId, topic)) ?? { cursor: 0, changes: [] };
      const merged = [...entry.changes, ...changes.map(strip)].filter((c) => c.seq >= floor);
      topics.set(key(userId, topic), { cursor, changes: contiguousTail(merged) });
    },
    reset: async (userId, topic) => void topics.delete(key(userId, topic)),
    clear: async () => topics.clear(),
  };
}

/** The longest run at the end of `changes` whose seqs increase by exactly 1. */
function contiguousTail(changes: TopicChange[]): TopicChange[] {
  let start = changes.length - 1;
  while (start > 0 && changes[start - 1]!.seq === changes[start]!.seq - 1) start--;
  return start <= 0 ? changes : changes.slice(start);
}
