import { MAX_RETAINED_SESSIONS, SESSION_RETENTION_MS } from '../constants.js';

/**
 * Outcome of {@link SessionRegistry.attach}. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * if ((await registry.attach(sessionId, sub, Date.now())) === 'user-mismatch') refuse();
 * ```
 */
export type AttachResult =
  /** The id was unknown: a new session starts. */
  | 'created'
  /** The id was known for this user: the session resumes. */
  | 'resumed'
  /** The id belongs to another user: the socket must be refused. */
  | 'user-mismatch';

/**
 * The key under which the server keeps a session in its {@link SessionRegistry}: the user and the
 * session id together, so that sessions of two users never share a key whatever ids they present.
 * An idle session that the registry forgot (retention, `maxIdleSessions`) can therefore never be
 * handed to another user: its owner's next `hello` gets a fresh session (`resumed: false`), and
 * anyone else presenting the id gets a session of their own, never the owner's. Injective: the
 * user id's length comes first.
 *
 * Import from `shared-session/server`.
 *
 * @param userId - the verified `sub`
 * @param sessionId - the id the client presented
 * @example
 * ```ts
 * await registry.attach(sessionKey('alice', sessionId), 'alice', Date.now());
 * ```
 */
export function sessionKey(userId: string, sessionId: string): string {
  return `${userId.length}:${userId}:${sessionId}`;
}

/**
 * Remembers which user owns each session id, including sessions whose sockets all closed, so that
 * a reconnect can be told `resumed: true` and another user can never take a session id over.
 *
 * The in-memory implementation is {@link createMemorySessionRegistry}; `openRedisBackend` has one in
 * Redis for several server processes. Methods may return promises.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const registry = createMemorySessionRegistry({ retentionMs: 60 * 60 * 1000 });
 * const server = await createSessionServer({ auth: { secret }, sessionRegistry: registry });
 * ```
 */
export interface SessionRegistry {
  /**
   * Binds a socket to `sessionId` for `userId`, creating the session when it is unknown.
   *
   * @param sessionId - the client's session id
   * @param userId - the verified `sub`
   * @param now - epoch ms
   */
  attach(sessionId: string, userId: string, now: number): AttachResult | Promise<AttachResult>;
  /**
   * Unbinds one socket. When none is left, the retention period starts at `now`.
   *
   * @param sessionId - a session id previously attached
   * @param now - epoch ms
   */
  detach(sessionId: string, now: number): void | Promise<void>;
  /**
   * Forgets the session (the client ended it). A later `attach` with the same id creates it anew.
   *
   * @param sessionId - the session to forget
   */
  forget(sessionId: string): void | Promise<void>;
  /**
   * Drops idle sessions past their retention.
   *
   * @param now - epoch ms
   * @returns how many sessions were dropped
   */
  prune(now: number): number | Promise<number>;
  /**
   * Optional, for registries shared by several server processes: calls `listener` with the id of
   * every session that was forgotten (ended) anywhere, so that each process closes that session's
   * sockets with 4005. A registry of one process need not have it: the server closes its own
   * sockets of an ended session.
   *
   * @returns a function that stops listening
   */
  onEnded?(listener: (sessionId: string) => void): () => void;
}

/**
 * Options of {@link createMemorySessionRegistry}. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: MemorySessionRegistryOptions = { retentionMs: 60 * 60 * 1000, maxIdleSessions: 1000 };
 * ```
 */
export interface MemorySessionRegistryOptions {
  /** How long an idle session is remembered. Default {@link SESSION_RETENTION_MS}. */
  retentionMs?: number;
  /** Most idle sessions kept; the least recently used go first. Default {@link MAX_RETAINED_SESSIONS}. */
  maxIdleSessions?: number;
}

/**
 * An in-memory {@link SessionRegistry} whose methods answer synchronously, plus its size.
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const registry: MemorySessionRegistry = createMemorySessionRegistry();
 * registry.attach('s1', 'alice', Date.now()); // 'created'
 * registry.has('s1'); // true
 * ```
 */
export interface MemorySessionRegistry extends SessionRegistry {
  attach(sessionId: string, userId: string, now: number): AttachResult;
  detach(sessionId: string, now: number): void;
  forget(sessionId: string): void;
  prune(now: number): number;
  /** Sessions remembered, live or idle. */
  readonly size: number;
  /** Whether `sessionId` is remembered. */
  has(sessionId: string): boolean;
}

interface SessionRecord {
  userId: string;
  sockets: number;
  /** When the last socket left; meaningful while `sockets` is 0. */
  idleSince: number;
}

/**
 * Creates a {@link SessionRegistry} that lives in this process's memory. Idle sessions are kept for
 * `retentionMs`, and at most `maxIdleSessions` of them (least recently used dropped first); sessions
 * with an open socket are never dropped.
 *
 * Import from `shared-session/server`.
 *
 * @param options - retention limits
 * @example
 * ```ts
 * const registry = createMemorySessionRegistry({ maxIdleSessions: 10_000 });
 * ```
 */
export function createMemorySessionRegistry(options: MemorySessionRegistryOptions = {}): MemorySessionRegistry {
  const retentionMs = options.retentionMs ?? SESSION_RETENTION_MS;
  const maxIdle = options.maxIdleSessions ?? MAX_RETAINED_SESSIONS;
  if (!(retentionMs >= 0)) throw new TypeError('"retentionMs" must be a non-negative number');
  if (!Number.isSafeInteger(maxIdle) || maxIdle < 0)
    throw new TypeError('"maxIdleSessions" must be a non-negative integer');

  const live = new Map<string, SessionRecord>();
  // Idle sessions in the order they became idle (Map keeps insertion order): oldest first.
  const idle = new Map<string, SessionRecord>();

  const evict = (now: number): number => {
    let dropped = 0;
    for (const [id, record] of idle) {
      if (idle.size <= maxIdle && now - record.idleSince < retentionMs) break;
      idle.delete(id);
      dropped++;
    }
    return dropped;
  };

  return {
    get size() {
      return live.size + idle.size;
    },
    has: (sessionId) => live.has(sessionId) || idle.has(sessionId),
    attach(sessionId, userId, now) {
      evict(now);
      const record = live.get(sessionId) ?? idle.get(sessionId);
      if (record === undefined) {
        live.set(sessionId, { userId, sockets: 1, idleSince: now });
        return 'created';
      }
      if (record.userId !== userId) return 'user-mismatch';
      record.sockets++;
      if (idle.delete(sessionId)) live.set(sessionId, record);
      return 'resumed';
    },
    detach(sessionId, now) {
      const record = live.get(sessionId);
      if (record === undefined) return;
      record.sockets--;
      if (record.sockets > 0) return;
      live.delete(sessionId);
      record.idleSince = now;
      idle.set(sessionId, record);
      evict(now);
    },
    forget(sessionId) {
      live.delete(sessionId);
      idle.delete(sessionId);
    },
    prune: evict,
  };
}
