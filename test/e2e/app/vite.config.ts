import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const fromHere = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/**
 * The e2e test app. `shared-session` resolves to the BUILT package in `dist/`, so the suite exercises
 * what ships, including the worker bundle the page finds with `new URL('../worker.js', import.meta.url)`.
 * The directory can be overridden with `SHARED_SESSION_DIST` (to try the harness on a stand-in).
 */
const dist = process.env.SHARED_SESSION_DIST
  ? path.resolve(process.env.SHARED_SESSION_DIST)
  : fromHere('../../../dist');

export default defineConfig({
  root: fromHere('.'),
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: /^shared-session\/errors$/, replacement: `${dist}/errors/index.js` },
      { find: /^shared-session$/, replacement: `${dist}/page/index.js` },
    ],
  },
  build: {
    outDir: fromHere('../../../.tmp/e2e-app/'),
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
  },
});
