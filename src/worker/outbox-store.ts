import type { IDBPDatabase } from 'idb';
import { whileOpen, type HostDB, type OutboxEntry } from './host-database.js';

export type { OutboxEntry } from './host-database.js';

/** Persistence of publishes that the server has not acknowledged yet. */
export interface OutboxStore {
  /** Durable once resolved: a reload or host restart after this still sends the entry. */
  add(entry: OutboxEntry): Promise<void>;
  remove(clientId: string): Promise<void>;
  /** A user's entries, oldest first. */
  list(userId: string): Promise<OutboxEntry[]>;
}

/**
 * An {@link OutboxStore} over the host database, or in memory when `db` is undefined (then a
 * host restart loses unsent publishes, which is why IndexedDB is the default), and in memory once
 * the host closed the database for a newer build's upgrade.
 *
 * @param db - the database from `openHostDatabase`
 */
export function createOutboxStore(db: IDBPDatabase<HostDB> | undefined): OutboxStore {
  return db ? whileOpen(db, idbOutboxStore(db), memoryOutboxStore()) : memoryOutboxStore();
}

function idbOutboxStore(db: IDBPDatabase<HostDB>): OutboxStore {
  return {
    add: async (entry) => void (await db.put('outbox', entry)),
    remove: async (clientId) => void (await db.delete('outbox', clientId).catch(() => undefined)),
    list: (userId) =>
      db
        .getAllFromIndex('outbox', 'byUser', IDBKeyRange.bound([userId, 0], [userId, Number.MAX_SAFE_INTEGER]))
        .catch(() => []),
  };
}

function memoryOutboxStore(): OutboxStore {
  const entries = new Map<string, OutboxEntry>();
  return {
    add: async (entry) => void entries.set(entry.clientId, entry),
    remove: async (clientId) => void entries.delete(clientId),
    list: async (userId) =>
      [...entries.values()].filter((e) => e.userId === userId).sort((a, b) => a.createdAt - b.createdAt),
  };
}
