import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const fromHere = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/**
 * The e2e test apps: the harness the suite drives (index.html) and a small feed app that
 * testing-kit-example.spec.ts tests like a user's own app (feed.html). `shared-session` resolves to
 * the BUILT package — global setup's snapshot of `dist/` in `.tmp/e2e-dist` — so the suite exercises
 * what ships, including the worker bundle the page finds with `new URL('../worker.js', import.meta.url)`.
 */
const dist = fromHere('../../../.tmp/e2e-dist');

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
    // Two pages: the harness (index.html) and the small app testing-kit-example.spec.ts tests (feed.html).
    rollupOptions: { input: { index: fromHere('index.html'), feed: fromHere('feed.html') } },
  },
});
