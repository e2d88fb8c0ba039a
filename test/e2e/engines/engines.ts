/**
 * Which browser and adapter drives each engine on this machine. In order of preference:
 * an explicit path from the environment, Playwright's own build (ordinary dev machines after
 * `npx playwright install`), then the system browsers `scripts/ensure-deps.mjs` installs with apt
 * (Debian's chromium, firefox-esr, webkit2gtk-driver + xvfb). `playwright.config.ts` and
 * `ensure-deps` use the same rules.
 */
import { chromium, firefox, webkit, type BrowserType } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { launchBidiFirefox } from './bidi-driver.ts';
import type { DriverKind, EngineDriver, EngineName } from './driver.ts';
import { launchPlaywright } from './playwright-driver.ts';
import { launchWebKitGtk, WEBKIT_DEFAULTS } from './webdriver-driver.ts';

/** Every engine, in the order the suite runs them. */
export const ENGINE_NAMES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

/** Chromium flags the whole suite uses (Playwright already adds `--no-sandbox` and friends). */
export const CHROMIUM_ARGS = ['--disable-gpu', '--disable-quic'];

/** Playwright's own build of `browserType` when it is installed here, else `undefined`. */
function playwrightBuild(browserType: BrowserType): string | undefined {
  try {
    const path = browserType.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    // Playwright throws when it knows no build for this platform.
    return undefined;
  }
}

/** An executable on the `PATH`, by name. */
function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n')[0];
  } catch {
    return undefined;
  }
}

/**
 * Chromium to drive: `CHROMIUM_PATH` first, then Playwright's own build when it is installed, else
 * Debian's `/usr/bin/chromium` (this machine cannot download browsers).
 */
export function chromiumExecutable(): string {
  return process.env.CHROMIUM_PATH || playwrightBuild(chromium) || '/usr/bin/chromium';
}

/** How an engine will be driven here, or why it cannot be. */
export type EngineChoice =
  | { engine: EngineName; kind: DriverKind; executable: string; launch(): Promise<EngineDriver> }
  | { engine: EngineName; unavailable: string };

/** Picks the browser and adapter for `engine` (see the module comment). */
export function chooseEngine(engine: EngineName): EngineChoice {
  if (engine === 'chromium') {
    const executable = chromiumExecutable();
    if (!existsSync(executable)) return { engine, unavailable: `no Chromium at ${executable} (set CHROMIUM_PATH)` };
    return {
      engine,
      kind: 'playwright',
      executable,
      launch: () => launchPlaywright(engine, chromium, { executablePath: executable, args: CHROMIUM_ARGS }),
    };
  }
  if (engine === 'firefox') {
    const explicit = process.env.FIREFOX_PATH;
    const bundled = explicit ? undefined : playwrightBuild(firefox);
    if (bundled) {
      return { engine, kind: 'playwright', executable: bundled, launch: () => launchPlaywright(engine, firefox, {}) };
    }
    const system = explicit || onPath('firefox-esr') || onPath('firefox');
    if (!system || !existsSync(system)) {
      return {
        engine,
        unavailable: 'no Firefox: apt-get install firefox-esr, `npx playwright install firefox`, or set FIREFOX_PATH',
      };
    }
    return { engine, kind: 'bidi', executable: system, launch: () => launchBidiFirefox(system) };
  }
  const bundled = playwrightBuild(webkit);
  if (bundled) {
    return { engine, kind: 'playwright', executable: bundled, launch: () => launchPlaywright(engine, webkit, {}) };
  }
  const paths = {
    driver: process.env.WEBKIT_WEBDRIVER_PATH || onPath('WebKitWebDriver') || WEBKIT_DEFAULTS.driver,
    miniBrowser: process.env.WEBKIT_MINIBROWSER_PATH || WEBKIT_DEFAULTS.miniBrowser,
  };
  const missing = [
    ...(existsSync(paths.driver) ? [] : [`WebKitWebDriver (${paths.driver})`]),
    ...(existsSync(paths.miniBrowser) ? [] : [`MiniBrowser (${paths.miniBrowser})`]),
    ...(onPath('Xvfb') ? [] : ['Xvfb']),
  ];
  if (missing.length > 0) {
    return {
      engine,
      unavailable: `no WebKit: ${missing.join(', ')} missing (apt-get install webkit2gtk-driver xvfb, or \`npx playwright install webkit\`)`,
    };
  }
  return { engine, kind: 'webdriver', executable: paths.miniBrowser, launch: () => launchWebKitGtk(paths) };
}
