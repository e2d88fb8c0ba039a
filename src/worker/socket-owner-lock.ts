import { SOCKET_OWNER_LOCK } from '../protocol/host-discovery.js';
import type { Clock } from '../shared/clock.js';

/**
 * Longest a stopped connection keeps the socket-owner lock while its socket's close handshake
 * runs (see {@link releaseWhenClosed}).
 */
export const CLOSE_RELEASE_TIMEOUT_MS = 1_000;

/** The right to own the WebSocket, while held. */
export interface Ownership {
  /** Gives the right up (the socket closed). */
  release(): void;
  /**
   * Resolves if another host took the right away (a new leader after this one froze): this host
   * must stop using its socket at once — it is fenced. Never resolves after {@link release}.
   */
  readonly lost: Promise<void>;
}

/** Waits for the right to own the WebSocket. */
export type AcquireOwnership = (signal: AbortSignal) => Promise<Ownership>;

/**
 * Takes the origin-wide "socket owner" Web Lock before a host opens its socket, so that two
 * hosts — two builds' SharedWorkers side by side, or an old and a new leader during a handover —
 * never hold two sockets at once. Where Web Locks are missing, ownership is granted at once.
 *
 * @param signal - aborts the wait (the host stopped wanting a socket)
 */
export const acquireSocketOwnership: AcquireOwnership = (signal) => requestOwnership({ signal });

/**
 * Takes the socket-owner lock away from its holder (Web Locks `steal`): for a leader host that
 * took over from a leader tab its tabs found unresponsive (frozen), which would otherwise keep the
 * lock — and the socket — until it wakes. The old holder's {@link Ownership.lost} resolves, so it
 * stops its socket and refreshes when it wakes (fencing).
 */
export const stealSocketOwnership: AcquireOwnership = (signal) =>
  signal.aborted ? Promise.reject(signal.reason) : requestOwnership({ steal: true });

function requestOwnership(options: LockOptions): Promise<Ownership> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  if (!locks) return Promise.resolve({ release: () => undefined, lost: new Promise<void>(() => undefined) });
  return new Promise((resolve, reject) => {
    let granted = false;
    let lost!: () => void;
    const whenLost = new Promise<void>((done) => (lost = done));
    locks
      .request(SOCKET_OWNER_LOCK, options, () => {
        granted = true;
        return new Promise<void>((release) => resolve({ release: () => release(), lost: whenLost }));
      })
      // Rejected before the grant: aborted by the signal. After it: stolen by another host.
      .catch((error: unknown) => (granted ? lost() : reject(error)));
  });
}

/**
 * Gives the right to own the socket up once `socket` has closed — its close handshake done, so the
 * server no longer counts it — or after {@link CLOSE_RELEASE_TIMEOUT_MS}: the next host never dials
 * while the server still counts this socket (two sockets at once), and a close that never
 * completes cannot hold the lock for long.
 *
 * @param owned - the right, held
 * @param socket - the socket just asked to close (its `onclose` is taken over)
 * @param clock - for the bound
 */
export function releaseWhenClosed(owned: Ownership, socket: Pick<WebSocket, 'onclose'>, clock: Clock): void {
  const release = (): void => {
    clock.clearTimeout(timer);
    socket.onclose = null;
    owned.release();
  };
  const timer = clock.setTimeout(release, CLOSE_RELEASE_TIMEOUT_MS);
  socket.onclose = release;
}
