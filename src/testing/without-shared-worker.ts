import type { BrowserContext } from '@playwright/test';

/**
 * Removes `SharedWorker` from every page of `context` before any of its scripts runs, so that a
 * `SessionClient` with `host: 'auto'` (the default) falls back to the leader tab host — as in a
 * browser without SharedWorker (Chrome for Android, older Safari). Call it before opening the tabs.
 *
 * Engines: every engine Playwright drives (an init script). Import from `shared-session/testing`.
 *
 * @param context - the Playwright context
 * @example
 * ```ts
 * test('works without SharedWorker', async ({ context, openTabs }) => {
 *   await withoutSharedWorker(context);
 *   const tabs = await openTabs(2, '/');
 *   // … every tab talks to the leader tab's host, still on one socket …
 * });
 * ```
 */
export async function withoutSharedWorker(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
  });
}
