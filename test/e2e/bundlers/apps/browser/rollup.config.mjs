// Plain Rollup (node-resolve only) leaves `new URL('../worker.js', import.meta.url)` pointing at a
// file it never copies; the app copies shared-session/worker.js and passes it as `workerUrl`.
// With ROLLUP_IMPORT_META_ASSETS=1, @web/rollup-plugin-import-meta-assets emits the worker instead.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { importMetaAssets } from '@web/rollup-plugin-import-meta-assets';

const withAssets = process.env.ROLLUP_IMPORT_META_ASSETS === '1';

/** Copies the package's worker bundle next to the app as shared-session-worker.js. */
const copySharedSessionWorker = {
  name: 'copy-shared-session-worker',
  async generateBundle() {
    const source = await readFile(fileURLToPath(import.meta.resolve('shared-session/worker.js')));
    this.emitFile({ type: 'asset', fileName: 'shared-session-worker.js', source });
  },
};

/** The page that loads the bundle. */
const indexHtml = {
  name: 'index-html',
  async generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'index.html', source: await readFile('index.html', 'utf8') });
  },
};

export default {
  input: 'main.js',
  output: { dir: 'dist', format: 'es' },
  plugins: [nodeResolve({ browser: true }), indexHtml, withAssets ? importMetaAssets() : copySharedSessionWorker],
};
