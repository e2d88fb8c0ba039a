import type { BrowserContext } from '@playwright/test';
import type { HostToolOptions } from './host-evaluate.js';
import { cdpSessionOf, leaderWorker, sharedWorkerTargets, SHARED_WORKER_NAME } from './host-targets.js';
import { TestingKitError } from './testing-kit-error.js';

/** Which host {@link killHost} ended. */
export interface KilledHost {
  kind: 'shared-worker' | 'leader';
}

/**
 * Ends the session host of `context` the way a crash would, and leaves recovery to the library:
 * the SharedWorker (its socket closes at once; the tabs notice at once through the host's alive
 * lock and carry on through a leader tab host), or the leader tab's worker (its tab starts
 * another). The tabs stay open.
 *
 * Engines: the SharedWorker in Chromium (CDP `Target.closeTarget` on the `shared_worker` target);
 * the leader's worker in every engine Playwright drives. Rejects with a `TestingKitError`
 * (`UNSUPPORTED_BROWSER`, `NO_HOST`). Import from `shared-session/testing`.
 *
 * @param context - the Playwright context whose tabs share the host
 * @param options - the SharedWorker's name, if not the package's
 * @example
 * ```ts
 * await killHost(context);
 * for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('OPEN', { timeout: 30_000 });
 * expect(sessionServer.socketsForUser('alice')).toBe(1);
 * ```
 */
export async function killHost(context: BrowserContext, options: HostToolOptions = {}): Promise<KilledHost> {
  const leader = await leaderWorker(context);
  if (leader) {
    // A dedicated worker's own close(): it stops at once, like a crashed worker (no unload steps).
    await leader.evaluate(() => (globalThis as unknown as { close(): void }).close()).catch(() => undefined);
    return { kind: 'leader' };
  }
  const cdp = await cdpSessionOf(context, 'killHost');
  try {
    const targets = await sharedWorkerTargets(cdp, options.workerName ?? SHARED_WORKER_NAME);
    if (targets.length === 0)
      throw new TestingKitError('NO_HOST', 'killHost: no SharedWorker or leader host runs in the context');
    // Every worker of that name (tabs of two builds may run two, spec §4 version skew).
    for (const target of targets) await cdp.send('Target.closeTarget', { targetId: target.targetId });
    return { kind: 'shared-worker' };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
