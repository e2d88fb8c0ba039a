import { defineConfig } from 'vitest/config';

/**
 * Builds the self-contained SharedWorker bundle (`dist/worker.js`: comlink, idb and jose inlined)
 * that the page client finds with `new URL('../worker.js', import.meta.url)`, and configures the
 * Vitest unit tests. The rest of `dist/` is emitted by `tsc` (see scripts/build.mjs).
 */
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    sourcemap: true,
    minify: false,
    lib: {
      entry: 'src/worker/entry.ts',
      formats: ['es'],
      fileName: () => 'worker.js',
    },
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 15_000,
  },
});
