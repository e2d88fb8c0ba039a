import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/** Name of the IndexedDB database the host keeps its state in (one per origin). */
export const DATABASE_NAME = 'shared-session';
/** Schema version of {@link DATABASE_NAME}. */
export const DATABASE_VERSION = 1;

/** Session metadata persisted across reloads and host restarts (never the raw token by default). */
export interface StoredSession {
  id: string;
  userId: string;
  roles: string[];
  /** Token expiry, epoch ms (token clock), `null` for none. */
  expiresAt: number | null;
  /** Server clock minus local clock, ms. */
  clockOffsetMs: number;
  /** Build id of the host that wrote this record. */
  buildId: string;
  /** ws(s) URL of the server. */
  serverUrl: string;
  /** Only with `persistToken: true`. */
  token?: string;
  updatedAt: number;
}

interface SessionDB extends DBSchema {
  meta: { key: string; value: StoredSession };
}

const SESSION_KEY = 'session';

/** Persistence of the session host's state in IndexedDB, through `idb`. */
export interface SessionStore {
  loadSession(): Promise<StoredSession | undefined>;
  saveSession(session: StoredSession): Promise<void>;
  deleteSession(): Promise<void>;
  /** Deletes cached data (not the session). */
  clearData(): Promise<void>;
}

/**
 * Opens the host's IndexedDB database. Failures (private mode, quota, a blocked upgrade) degrade
 * to an in-memory store rather than breaking the session: persistence is an optimisation of
 * resume, not a requirement of a live session.
 */
export async function openSessionStore(name = DATABASE_NAME): Promise<SessionStore> {
  let db: IDBPDatabase<SessionDB>;
  try {
    db = await openDB<SessionDB>(name, DATABASE_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) database.createObjectStore('meta');
      },
      blocking() {
        // A newer host build wants to upgrade: let it (this host keeps working from memory).
        db.close();
      },
    });
  } catch {
    return createMemorySessionStore();
  }
  return {
    loadSession: async () => {
      try {
        return await db.get('meta', SESSION_KEY);
      } catch {
        return undefined;
      }
    },
    saveSession: async (session) => {
      await db.put('meta', session, SESSION_KEY).catch(() => undefined);
    },
    deleteSession: async () => {
      await db.delete('meta', SESSION_KEY).catch(() => undefined);
    },
    clearData: async () => {
      // Topic caches and the outbox join this database with the data plane; nothing else is cached yet.
    },
  };
}

/** A {@link SessionStore} that keeps everything in memory (fallback, and unit tests). */
export function createMemorySessionStore(): SessionStore {
  let session: StoredSession | undefined;
  return {
    loadSession: async () => session,
    saveSession: async (value) => {
      session = value;
    },
    deleteSession: async () => {
      session = undefined;
    },
    clearData: async () => undefined,
  };
}
