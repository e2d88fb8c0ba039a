import type { BrowserContext, Page } from '@playwright/test';

/**
 * Opens `count` tabs of `url` in one browser context (they share one SharedWorker and one
 * IndexedDB, like the tabs of one browser profile), one after the other, each loaded.
 * Import from `shared-session/testing`.
 *
 * @param context - the Playwright context (one per test by default)
 * @param count - how many tabs
 * @param url - what each tab loads
 * @example
 * ```ts
 * const [a, b, c] = await openTabs(context, 3, '/');
 * ```
 */
export async function openTabs(context: BrowserContext, count: number, url: string): Promise<Page[]> {
  if (!Number.isSafeInteger(count) || count < 1) throw new TypeError('"count" must be a positive integer');
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(url);
    pages.push(page);
  }
  return pages;
}
