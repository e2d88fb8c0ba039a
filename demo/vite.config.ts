import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const dist = (path: string) => here(`../dist/${path}`);

/** Emits sw.js with the list of every built file to precache, versioned by their content. */
function demoServiceWorker(): Plugin {
  return {
    name: 'demo-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((name) => !name.endsWith('.map'));
      const hash = createHash('sha256');
      for (const name of files.sort()) {
        const item = bundle[name]!;
        hash.update(name).update(item.type === 'chunk' ? item.code : String(item.source));
      }
      const source = readFileSync(here('./sw.js'), 'utf8')
        .replace('__VERSION__', `demo-${hash.digest('hex').slice(0, 12)}`)
        .replace('__PRECACHE__', JSON.stringify(['./', ...files.map((name) => `./${name}`)]));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

/** The demo consumes the built package exactly as an app would (no plugin; the worker is found by URL). */
export default defineConfig({
  root: here('.'),
  resolve: {
    alias: [
      { find: /^shared-session$/, replacement: dist('page/index.js') },
      { find: /^shared-session\/errors$/, replacement: dist('errors/index.js') },
      { find: /^shared-session\/devtools$/, replacement: dist('devtools/index.js') },
    ],
  },
  plugins: [demoServiceWorker()],
  build: { outDir: here('../.tmp/demo'), emptyOutDir: true },
  logLevel: 'warn',
});
