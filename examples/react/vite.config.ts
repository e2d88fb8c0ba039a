import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
/** The built package (`npm run build`); the e2e suite points this at its snapshot of dist/. */
const dist = process.env.SHARED_SESSION_EXAMPLE_DIST ?? here('../../dist');

/**
 * The example consumes the built package as an app would, with no plugin (the worker is found by
 * URL). `npx vite examples/react` serves it and forwards `/api` to the demo server of `npm start`
 * (`DEMO_URL`, default http://127.0.0.1:5173), which mints the demo tokens.
 */
export default defineConfig({
  root: here('.'),
  base: './',
  resolve: {
    alias: [
      { find: /^shared-session\/react$/, replacement: `${dist}/react/index.js` },
      { find: /^shared-session$/, replacement: `${dist}/page/index.js` },
    ],
  },
  server: { proxy: { '/api': process.env.DEMO_URL ?? 'http://127.0.0.1:5173' } },
  build: { outDir: here('./dist'), emptyOutDir: true, target: 'es2022' },
});
