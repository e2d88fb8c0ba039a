import type { Connection } from './connection.js';

/**
 * The authenticated connections of this process, indexed by session (its registry key: user and
 * id) and by user, for fan-out (`end` closes every socket of a session), the sockets-per-user cap
 * and `stats()`.
 */
export class LiveConnections {
  readonly #bySession = new Map<string, Set<Connection>>();
  readonly #byUser = new Map<string, number>();

  /** Distinct sessions with at least one connection. */
  get sessions(): number {
    return this.#bySession.size;
  }

  /**
   * Adds an authenticated connection.
   *
   * @param connection - a connection whose `session` is set
   */
  add(connection: Connection): void {
    const session = connection.session;
    if (session === undefined) return;
    let set = this.#bySession.get(session.key);
    if (set === undefined) this.#bySession.set(session.key, (set = new Set()));
    if (set.has(connection)) return;
    set.add(connection);
    this.#byUser.set(session.userId, (this.#byUser.get(session.userId) ?? 0) + 1);
  }

  /**
   * Removes a connection (no-op when it was never added).
   *
   * @param connection - a closed connection
   */
  delete(connection: Connection): void {
    const session = connection.session;
    if (session === undefined) return;
    const set = this.#bySession.get(session.key);
    if (set === undefined || !set.delete(connection)) return;
    if (set.size === 0) this.#bySession.delete(session.key);
    const count = (this.#byUser.get(session.userId) ?? 1) - 1;
    if (count > 0) this.#byUser.set(session.userId, count);
    else this.#byUser.delete(session.userId);
  }

  /**
   * The connections of one session (a copy, safe to close while iterating).
   *
   * @param key - the session's registry key (`sessionKey(userId, sessionId)`)
   */
  ofSession(key: string): Connection[] {
    return [...(this.#bySession.get(key) ?? [])];
  }

  /**
   * Open authenticated connections of one user.
   *
   * @param userId - a `sub`
   */
  ofUser(userId: string): number {
    return this.#byUser.get(userId) ?? 0;
  }

  /** Open authenticated connections per user. */
  socketsByUser(): Record<string, number> {
    return Object.fromEntries(this.#byUser);
  }
}
