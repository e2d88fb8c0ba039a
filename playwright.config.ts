import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from './test/e2e/engines/engines.ts';
import { APP_URL_ENV } from './test/e2e/paths.ts';

/** The cross-engine spec files (a regular expression: Playwright matches globs against absolute paths). */
const ENGINE_SPECS = /test[\\/]e2e[\\/]engines[\\/][^\\/]+\.spec\.ts$/;

export default defineConfig({
  testDir: 'test/e2e',
  // At run time `shared-session/*` resolves to the built package snapshot (.tmp/e2e-dist), so
  // testing-kit-example.spec.ts imports the kit the way a user does and gets what ships; the type
  // check (root tsconfig.json) maps the same imports to src/.
  tsconfig: './test/e2e/tsconfig.playwright.json',
  testMatch: '**/*.spec.ts',
  // The suite is timing-sensitive (refresh 1 s before exp) and the machine has 2 shared cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [['list'], ['./test/e2e/summary-reporter.ts']],
  globalSetup: './test/e2e/global-setup.ts',
  outputDir: 'test-results',
  use: {
    // The test apps, served by global setup (which runs before the workers read this config).
    baseURL: process.env[APP_URL_ENV],
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      // CHROMIUM_PATH, else Playwright's own build when installed, else Debian's /usr/bin/chromium.
      executablePath: chromiumExecutable(),
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  projects: [
    // The whole suite in Chromium (Playwright pages).
    { name: 'chromium', testIgnore: ENGINE_SPECS },
    // The core scenarios in Chromium, Firefox and WebKit through the engine-neutral driver
    // (test/e2e/engines): each engine is a describe block with its own worker and browser.
    { name: 'engines', testMatch: ENGINE_SPECS },
  ],
});
