import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where package.json and dist/ live). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built package, as `npm run build` emits it (`SHARED_SESSION_DIST` overrides, to try the harness on a stand-in). */
export const SOURCE_DIST_DIR = process.env.SHARED_SESSION_DIST
  ? path.resolve(process.env.SHARED_SESSION_DIST) + path.sep
  : fileURLToPath(new URL('../../dist/', import.meta.url));
/**
 * The copy of `dist/` a run tests: global setup snapshots it so that a rebuild during the run (the work
 * tree is shared) cannot swap the server or the page code under the suite. The test app's Vite config
 * aliases `shared-session` into it, and the `server` fixture imports from it.
 */
export const DIST_DIR = fileURLToPath(new URL('../../.tmp/e2e-dist/', import.meta.url));
/** Where global setup builds the test app. */
export const APP_OUT_DIR = fileURLToPath(new URL('../../.tmp/e2e-app/', import.meta.url));
/** The test app's Vite config. */
export const APP_VITE_CONFIG = fileURLToPath(new URL('./app/vite.config.ts', import.meta.url));
/** Environment variable that carries the test app's URL from global setup to the test workers. */
export const APP_URL_ENV = 'SHARED_SESSION_E2E_APP_URL';
