/**
 * Freezes a leader tab the way a browser freezes a page: the page *and its dedicated workers*.
 * The testing kit's `freezeTab` pauses the page's own JavaScript only, so a leader tab's host —
 * which runs in the tab's dedicated worker and answers the other tabs over BroadcastChannel —
 * would go on answering. This also pauses each dedicated worker of the page over CDP.
 */
import type { CDPSession, Page } from '@playwright/test';
import type * as HostTargets from '../../../src/testing/host-targets.ts';
import { freezeTab, resumeTab } from '../fixtures.ts';
import { loadBuilt } from './built.ts';

const { attachToTarget } = await loadBuilt<typeof HostTargets>('testing/host-targets.js');

type TargetSession = Awaited<ReturnType<typeof HostTargets.attachToTarget>>;

/** A frozen leader tab: resume it with {@link resumeLeaderTab}. */
export interface FrozenLeader {
  readonly page: Page;
  /** Dedicated workers paused with the page. */
  readonly workers: number;
  readonly cdp: CDPSession;
  readonly sessions: TargetSession[];
}

interface TargetInfo {
  targetId: string;
  type: string;
  parentId?: string;
}

/** How long a dedicated worker may take to report that it paused. */
const WORKER_PAUSE_TIMEOUT_MS = 10_000;

/**
 * Freezes `page` (`freezeTab`) and pauses every dedicated worker it started (`Debugger.pause`),
 * waiting until each reports `Debugger.paused`.
 */
export async function freezeLeaderTab(page: Page): Promise<FrozenLeader> {
  const cdp = await page.context().newCDPSession(page);
  const { targetInfo: own } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: TargetInfo };
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
  const workers = targetInfos.filter((t) => t.type === 'worker' && t.parentId === own.targetId);
  const sessions: TargetSession[] = [];
  for (const worker of workers) {
    const session = await attachToTarget(cdp, worker.targetId);
    sessions.push(session);
    await session.send('Debugger.enable');
    const paused = session.nextEvent('Debugger.paused', WORKER_PAUSE_TIMEOUT_MS);
    // Answered at once; the worker stops at its next statement. Give it one now (its answer comes
    // only after the resume), so that the pause is seen to take rather than assumed: on a busy
    // machine a pause that never took would leave the host answering under a "frozen" tab.
    await session.send('Debugger.pause');
    void session.send('Runtime.evaluate', { expression: 'void 0' }).catch(() => undefined);
    await paused.catch((error: unknown) => {
      throw new Error(`the leader tab's worker did not pause: ${String(error)}`, { cause: error });
    });
  }
  await freezeTab(page);
  return { page, workers: workers.length, cdp, sessions };
}

/**
 * Resumes the workers first, then the page, back to back — the host in the worker gets the first
 * word, which is the hard case for fencing.
 */
export async function resumeLeaderTab(frozen: FrozenLeader): Promise<void> {
  for (const session of frozen.sessions) {
    await session.send('Debugger.resume');
    await session.detach();
  }
  await resumeTab(frozen.page);
  await frozen.cdp.detach().catch(() => undefined);
}
