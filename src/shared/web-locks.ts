/**
 * Web Locks as a liveness signal between a tab and its host: a context holds a lock for its life,
 * and another learns of its end the moment the browser grants it the same lock (a lock is
 * released when the context holding it is gone — closed, crashed or killed). Used by the page (its
 * tab lock, its host's end) and by the host (its own lock). Where Web Locks are missing (or the
 * lock manager refuses), {@link holdLock} holds nothing and {@link waitForRelease} reports no end.
 *
 * @module
 */

/** The origin's lock manager, or `undefined` (an old browser, Node). */
function lockManager(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/**
 * Holds the Web Lock `name` until `release` is called or this context ends; resolves once held.
 *
 * @param name - the lock's name, unique to its holder
 * @returns the release, or `undefined` when no lock can be held here (no Web Locks, or the lock
 *   manager refused: an opaque origin)
 * @example
 * ```ts
 * const release = await holdLock(`shared-session:tab:${tabId}`); // others learn of this tab's end
 * ```
 */
export async function holdLock(name: string): Promise<(() => void) | undefined> {
  const locks = lockManager();
  if (!locks) return undefined;
  let release!: () => void;
  const held = await new Promise<boolean>((settle) => {
    // The request settles only when released (by `release` or with this context), or at once when refused.
    locks
      .request(name, () => {
        settle(true);
        return new Promise<void>((done) => (release = done));
      })
      .catch(() => settle(false));
  });
  return held ? () => release() : undefined;
}

/**
 * Waits until the lock `name` is free — its holder ended or released it — and lets it go at once.
 *
 * @param name - a lock another context holds (see {@link holdLock})
 * @param signal - stops waiting
 * @returns `true` once the holder is gone; `false` when aborted or without Web Locks
 * @example
 * ```ts
 * if (await waitForRelease(hello.aliveLock, watch.signal)) recover('the host ended');
 * ```
 */
export async function waitForRelease(name: string, signal: AbortSignal): Promise<boolean> {
  const locks = lockManager();
  if (!locks || signal.aborted) return false;
  try {
    await locks.request(name, { signal }, () => undefined);
    return true;
  } catch {
    return false; // aborted
  }
}
