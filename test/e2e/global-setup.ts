import { chromium, type FullConfig } from '@playwright/test';
import { existsSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'vite';
import { APP_OUT_DIR, APP_URL_ENV, APP_VITE_CONFIG, DIST_DIR, SOURCE_DIST_DIR } from './paths.ts';
import { serveStatic } from './static-server.ts';

/** Files of the built package the suite runs against; `npm run build` emits them. */
const REQUIRED_DIST_FILES = ['page/index.js', 'worker.js', 'errors/index.js', 'server/index.js', 'testing/index.js'];

/**
 * Checks that the package is built and snapshots `dist/`, logs the real browser version, builds the
 * test app with Vite against the snapshot and serves it. Tests find the app's URL in `process.env[APP_URL_ENV]`.
 */
export default async function globalSetup(config: FullConfig): Promise<() => Promise<void>> {
  const missing = REQUIRED_DIST_FILES.filter((file) => !existsSync(path.join(SOURCE_DIST_DIR, file)));
  if (missing.length > 0) {
    throw new Error(`dist/ is incomplete (missing ${missing.join(', ')}): run \`npm run build\` first`);
  }
  await rm(DIST_DIR, { recursive: true, force: true });
  await cp(SOURCE_DIST_DIR, DIST_DIR, { recursive: true });

  const launchOptions = config.projects[0]?.use.launchOptions ?? {};
  const browser = await chromium.launch(launchOptions);
  console.log(
    `e2e: ${browser.browserType().name()} ${browser.version()} (${launchOptions.executablePath ?? 'bundled'})`,
  );
  await browser.close();

  const started = performance.now();
  await build({ configFile: APP_VITE_CONFIG, logLevel: 'warn' });
  console.log(
    `e2e: test app built into ${path.relative(process.cwd(), APP_OUT_DIR)} in ${Math.round(performance.now() - started)} ms`,
  );

  const server = await serveStatic(APP_OUT_DIR);
  process.env[APP_URL_ENV] = server.url;
  return () => server.close();
}
