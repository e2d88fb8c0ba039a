import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The benchmark page, built against dist/ as a consumer would build it. */
export default defineConfig({
  root: here('.'),
  base: './',
  logLevel: 'warn',
  resolve: { alias: [{ find: /^shared-session$/, replacement: here('../../dist/page/index.js') }] },
  build: { outDir: here('../../.tmp/bench-app'), emptyOutDir: true, target: 'es2022' },
});
