import { chromium, defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { APP_URL_ENV } from './test/e2e/paths.ts';

/**
 * Chromium to drive: `CHROMIUM_PATH` first, then Playwright's own build when it is installed (ordinary
 * dev machines), else Debian's `/usr/bin/chromium` (this machine cannot download browsers).
 */
function chromiumExecutable(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    const bundled = chromium.executablePath();
    if (bundled && existsSync(bundled)) return bundled;
  } catch {
    // Playwright throws when it knows no browser for this platform; fall through to the system one.
  }
  return '/usr/bin/chromium';
}

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
      executablePath: chromiumExecutable(),
      args: ['--disable-gpu', '--disable-quic'],
    },
    trace: 'retain-on-failure',
  },
  projects: [{ name: 'chromium' }],
});
