import type { IDBPDatabase } from 'idb';
import type { HostDB, StoredSession } from './host-database.js';

export type { StoredSession } from './host-database.js';

const SESSION_KEY = 'session';

/** Where the host keeps its session metadata. Failures never reject: persistence is best effort. */
export interface SessionStore {
  loadSession(): Promise<StoredSession | undefined>;
  saveSession(session: StoredSession): Promise<void>;
  deleteSession(): Promise<void>;
}

/**
 * A {@link SessionStore} over the host database, or in memory when `db` is undefined.
 *
 * @param db - the database from `openHostDatabase`
 */
export function createSessionStore(db: IDBPDatabase<HostDB> | undefined): SessionStore {
  if (!db) {
    let session: StoredSession | undefined;
    return {
      loadSession: async () => session,
      saveSession: async (value) => void (session = value),
      deleteSession: async () => void (session = undefined),
    };
  }
  return {
    loadSession: () => db.get('meta', SESSION_KEY).catch(() => undefined),
    saveSession: async (session) => void (await db.put('meta', session, SESSION_KEY).catch(() => undefined)),
    deleteSession: async () => void (await db.delete('meta', SESSION_KEY).catch(() => undefined)),
  };
}
