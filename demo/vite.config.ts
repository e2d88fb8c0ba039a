import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const dist = (path: string) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));

/** The demo consumes the built package exactly as an app would (no plugin; the worker is found by URL). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: {
    alias: [
      { find: /^shared-session$/, replacement: dist('page/index.js') },
      { find: /^shared-session\/errors$/, replacement: dist('errors/index.js') },
    ],
  },
  build: { outDir: fileURLToPath(new URL('../.tmp/demo', import.meta.url)), emptyOutDir: true },
  logLevel: 'warn',
});
