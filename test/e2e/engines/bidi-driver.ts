/**
 * The WebDriver BiDi adapter: puppeteer-core drives a system Firefox (Debian's firefox-esr).
 * Playwright 1.65's `moz-firefox` channel fails on ESR 153 at `newContext`
 * (`emulation.setMediaFeaturesOverride: unknown command`); puppeteer-core's BiDi client only uses
 * what ESR implements.
 */
import puppeteer from 'puppeteer-core';
import { pageContext, type EngineDriver } from './driver.ts';

/**
 * Launches Firefox at `executablePath` headless over WebDriver BiDi.
 *
 * @param executablePath - e.g. `/usr/bin/firefox-esr`
 */
export async function launchBidiFirefox(executablePath: string): Promise<EngineDriver> {
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  return {
    engine: 'firefox',
    kind: 'bidi',
    version: await browser.version(),
    // A BiDi user context: its own cookies, storage and SharedWorkers.
    newContext: async () => pageContext(await browser.createBrowserContext()),
    close: () => browser.close(),
  };
}
