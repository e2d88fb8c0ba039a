import type { IDBPDatabase } from 'idb';
import type { Clock } from '../shared/clock.js';
import { whileOpen, type HostDB, type StoredSession } from './host-database.js';

export type { StoredSession } from './host-database.js';

const SESSION_KEY = 'session';

/** The identity a running session persists (its token only with `persistToken`). */
export interface PersistedIdentity {
  id: string;
  userId: string;
  roles: string[];
  expiresAt: number | null;
  serverUrl: string;
  token: string;
}

/** What the host learned of the server's token rules (persisted with the session). */
export interface ServerView {
  rolesClaim: string | null | undefined;
}

/**
 * The record kept in IndexedDB for a running session: enough to resume it after every tab closed
 * (same id, clock offset) without the raw token unless the app chose `persistToken`.
 */
export function storedSessionOf(
  session: PersistedIdentity,
  context: { clockOffsetMs: number; buildId: string; persistToken: boolean; now: number } & ServerView,
): StoredSession {
  const stored: StoredSession = {
    id: session.id,
    userId: session.userId,
    roles: [...session.roles],
    expiresAt: session.expiresAt,
    clockOffsetMs: context.clockOffsetMs,
    buildId: context.buildId,
    serverUrl: session.serverUrl,
    updatedAt: context.now,
  };
  if (context.persistToken) stored.token = session.token;
  if (context.rolesClaim !== undefined) stored.rolesClaim = context.rolesClaim;
  return stored;
}

/** Where the host keeps its session metadata. Failures never reject: persistence is best effort. */
export interface SessionStore {
  loadSession(): Promise<StoredSession | undefined>;
  saveSession(session: StoredSession): Promise<void>;
  deleteSession(): Promise<void>;
}

/**
 * A {@link SessionStore} over the host database, or in memory when `db` is undefined (or once the
 * host closed it for a newer build's upgrade).
 *
 * @param db - the database from `openHostDatabase`
 */
export function createSessionStore(db: IDBPDatabase<HostDB> | undefined): SessionStore {
  return db ? whileOpen(db, idbSessionStore(db), memorySessionStore()) : memorySessionStore();
}

function idbSessionStore(db: IDBPDatabase<HostDB>): SessionStore {
  return {
    loadSession: () => db.get('meta', SESSION_KEY).catch(() => undefined),
    saveSession: async (session) => void (await db.put('meta', session, SESSION_KEY).catch(() => undefined)),
    deleteSession: async () => void (await db.delete('meta', SESSION_KEY).catch(() => undefined)),
  };
}

function memorySessionStore(): SessionStore {
  let session: StoredSession | undefined;
  return {
    loadSession: async () => session,
    saveSession: async (value) => void (session = value),
    deleteSession: async () => void (session = undefined),
  };
}

/**
 * The running session's record in the {@link SessionStore}: written at start, at each token
 * change and connect (the clock offset), read when a start may resume it, removed when it ends.
 */
export class SessionPersistence {
  readonly #store: Promise<SessionStore>;
  readonly #context: { buildId: string; persistToken: boolean; clock: Clock };

  /**
   * @param store - where records go
   * @param context - the host's build id, whether to keep the raw token, and the clock
   */
  constructor(store: Promise<SessionStore>, context: { buildId: string; persistToken: boolean; clock: Clock }) {
    this.#store = store;
    this.#context = context;
  }

  /** Writes the running session's record. */
  async save(session: PersistedIdentity, clockOffsetMs: number, view: ServerView): Promise<void> {
    const { buildId, persistToken, clock } = this.#context;
    const stored = storedSessionOf(session, { clockOffsetMs, buildId, persistToken, now: clock.now(), ...view });
    await (await this.#store).saveSession(stored);
  }

  /** The stored record, if any. */
  async load(): Promise<StoredSession | undefined> {
    return (await this.#store).loadSession();
  }

  /** Removes the stored record. */
  async forget(): Promise<void> {
    await (await this.#store).deleteSession();
  }
}
