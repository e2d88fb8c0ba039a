/**
 * The Playwright adapter: Chromium (Debian's or Playwright's), and Playwright's own Firefox and
 * WebKit builds on machines where `npx playwright install` put them.
 */
import type { BrowserType, LaunchOptions } from '@playwright/test';
import { pageContext, type EngineDriver, type EngineName } from './driver.ts';

/**
 * Launches `browserType` headless and returns it as an {@link EngineDriver}.
 *
 * @param engine - which engine `browserType` is
 * @param browserType - `chromium`, `firefox` or `webkit` of `@playwright/test`
 * @param launchOptions - executable and arguments
 */
export async function launchPlaywright(
  engine: EngineName,
  browserType: BrowserType,
  launchOptions: LaunchOptions,
): Promise<EngineDriver> {
  const browser = await browserType.launch({ ...launchOptions, headless: true });
  return {
    engine,
    kind: 'playwright',
    version: `${browserType.name()}/${browser.version()}`,
    newContext: async () => pageContext(await browser.newContext()),
    close: () => browser.close(),
  };
}
