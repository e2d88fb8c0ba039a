import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { TopicChange } from '../protocol/host-api.js';
import type { JsonValue } from '../protocol/messages.js';

/** Name of the IndexedDB database the host keeps its state in (one per origin). */
export const DATABASE_NAME = 'shared-session';
/** Schema version of {@link DATABASE_NAME}. */
export const DATABASE_VERSION = 2;

/** Session metadata persisted across reloads and host restarts (never the raw token by default). */
export interface StoredSession {
  id: string;
  userId: string;
  roles: string[];
  /** Token expiry, epoch ms (server clock), `null` for none. */
  expiresAt: number | null;
  /** Server clock minus local clock, ms. */
  clockOffsetMs: number;
  /** Build id of the host that wrote this record. */
  buildId: string;
  /** ws(s) URL of the server. */
  serverUrl: string;
  /** Only with `persistToken: true`. */
  token?: string;
  /** The server's roles claim from its last `welcome` (`null`: the server uses `auth.verify`). */
  rolesClaim?: string | null;
  updatedAt: number;
}

/** A cached change, keyed by user so that another user never reads it. */
export interface StoredChange extends TopicChange {
  userId: string;
}

/** The host's position in one topic for one user. */
export interface StoredCursor {
  userId: string;
  topic: string;
  /** Highest seq received without gaps. */
  cursor: number;
}

/** A publish waiting for the server's acknowledgement. */
export interface OutboxEntry {
  clientId: string;
  userId: string;
  topic: string;
  data: JsonValue;
  /** Local epoch ms; the outbox is sent in this order. */
  createdAt: number;
  /** The tab that published it (it may be gone). */
  tabId: string;
}

/** The schema of {@link DATABASE_NAME}, for idb's typed API. */
export interface HostDB extends DBSchema {
  meta: { key: string; value: StoredSession };
  changes: { key: [string, string, number]; value: StoredChange };
  cursors: { key: [string, string]; value: StoredCursor };
  outbox: { key: string; value: OutboxEntry; indexes: { byUser: [string, number] } };
}

/**
 * Opens the host's database, creating or upgrading its object stores. Resolves `undefined` when
 * IndexedDB is unavailable (private mode, quota, a blocked upgrade): the host then keeps its state
 * in memory, since persistence makes resume cheaper but is not needed for a live session.
 */
export async function openHostDatabase(name = DATABASE_NAME): Promise<IDBPDatabase<HostDB> | undefined> {
  try {
    const db: IDBPDatabase<HostDB> = await openDB<HostDB>(name, DATABASE_VERSION, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) database.createObjectStore('meta');
        if (oldVersion < 2) {
          database.createObjectStore('changes', { keyPath: ['userId', 'topic', 'seq'] });
          database.createObjectStore('cursors', { keyPath: ['userId', 'topic'] });
          database.createObjectStore('outbox', { keyPath: 'clientId' }).createIndex('byUser', ['userId', 'createdAt']);
        }
      },
      blocking() {
        // A newer host build wants to upgrade: let it; this host goes on from memory (the stores
        // built over this database switch to their memory fallback, see `whileOpen`).
        closeForUpgrade(db);
      },
    });
    return db;
  } catch {
    return undefined;
  }
}

/** Databases this host closed for a newer build's upgrade. */
const closedDatabases = new WeakSet<IDBPDatabase<HostDB>>();

/**
 * A store that uses `open` while `db` is open and `fallback` (in memory) once the host closed it
 * for a newer build's upgrade (`blocking`), so that publishes, cursors and session writes keep
 * working instead of failing on a closed handle. What was written to IndexedDB stays there for the
 * newer host; the server deduplicates publishes sent by both.
 *
 * @param db - the host database
 * @param open - the store over `db`
 * @param fallback - the in-memory store used after `db` closed
 */
export function whileOpen<T extends object>(db: IDBPDatabase<HostDB>, open: T, fallback: T): T {
  return new Proxy(open, {
    get(_target, key) {
      const store = closedDatabases.has(db) ? fallback : open;
      const value: unknown = Reflect.get(store, key);
      return typeof value === 'function' ? value.bind(store) : value;
    },
  });
}

/** Marks `db` closed as `blocking()` does (tests of the fallback). */
export function closeForUpgrade(db: IDBPDatabase<HostDB>): void {
  closedDatabases.add(db);
  db.close();
}
