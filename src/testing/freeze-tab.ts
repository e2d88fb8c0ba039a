import type { CDPSession, Page } from '@playwright/test';
import { TestingKitError } from './testing-kit-error.js';

/** The CDP session that froze a page: it resumes the page and is detached by {@link resumeTab}. */
const frozen = new WeakMap<Page, CDPSession>();

/**
 * Freezes `page` like a browser freezes a background tab: no task runs in it — timers, messages
 * from the session host, its refresh handler — until {@link resumeTab}; it keeps its Web Locks, so
 * the host still counts it as open. Use it to check that the host does not wait on a frozen tab.
 * Do not `page.evaluate` in a frozen page (it answers after {@link resumeTab}).
 *
 * Engines: Chromium, over CDP. `Page.setWebLifecycleState` (which fires the page's `freeze` and
 * `resume` events) only freezes hidden pages, and every page of headless Chromium is visible, so the
 * kit also pauses the page's JavaScript with `Debugger.pause`. Rejects with a `TestingKitError`
 * `UNSUPPORTED_BROWSER` elsewhere. Import from `shared-session/testing`.
 *
 * @param page - the tab to freeze
 * @example
 * ```ts
 * await freezeTab(tabs[0]);
 * // … the session refreshes through another tab …
 * await resumeTab(tabs[0]);
 * ```
 */
export async function freezeTab(page: Page): Promise<void> {
  if (frozen.has(page)) return;
  let cdp: CDPSession;
  try {
    cdp = await page.context().newCDPSession(page);
  } catch (error) {
    throw new TestingKitError(
      'UNSUPPORTED_BROWSER',
      `freezeTab needs the Chrome DevTools Protocol, which only Chromium offers: ${String(error)}`,
      { cause: error },
    );
  }
  frozen.set(page, cdp);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  await cdp.send('Debugger.enable');
  // Answered at once; the page stops at its next statement (its next task).
  await cdp.send('Debugger.pause');
}

/**
 * Resumes a page {@link freezeTab} froze: queued tasks run (and, where the lifecycle freeze took,
 * its `resume` event fires). Does nothing for a page that is not frozen.
 * Import from `shared-session/testing`.
 *
 * @param page - the frozen tab
 * @example
 * ```ts
 * await resumeTab(tabs[0]);
 * ```
 */
export async function resumeTab(page: Page): Promise<void> {
  const cdp = frozen.get(page);
  if (!cdp) return;
  frozen.delete(page);
  await cdp.send('Debugger.resume');
  await cdp.send('Debugger.disable');
  await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  await cdp.detach();
}
