import { SOCKET_OWNER_LOCK } from '../protocol/host-discovery.js';

/** Waits for the right to own the WebSocket; resolves with its release. */
export type AcquireOwnership = (signal: AbortSignal) => Promise<() => void>;

/**
 * Takes the origin-wide "socket owner" Web Lock before a host opens its socket, so that two
 * hosts — two builds' SharedWorkers side by side, or an old and a new leader during a handover —
 * never hold two sockets at once. Where Web Locks are missing, ownership is granted at once.
 *
 * @param signal - aborts the wait (the host stopped wanting a socket)
 */
export const acquireSocketOwnership: AcquireOwnership = (signal) => {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return Promise.resolve(() => undefined);
  return new Promise((resolve, reject) => {
    locks
      .request(SOCKET_OWNER_LOCK, { signal }, () => new Promise<void>((release) => resolve(() => release())))
      .catch(reject);
  });
};
