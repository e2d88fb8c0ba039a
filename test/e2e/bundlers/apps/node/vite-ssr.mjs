// Vite SSR with default settings, both ways: the dev server's ssrLoadModule and `vite build --ssr`
// run in Node. Prints { dev, build } as JSON.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, createServer } from 'vite';

const root = import.meta.dirname;
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'warn',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false, watch: null },
});
let dev;
try {
  dev = await (await server.ssrLoadModule('/entry-server.js')).render();
} finally {
  await server.close();
}
await build({ root, configFile: false, logLevel: 'warn', build: { ssr: 'entry-server.js', outDir: 'dist-ssr' } });
const built = await import(pathToFileURL(path.join(root, 'dist-ssr/entry-server.js')).href);
console.log(JSON.stringify({ dev, build: await built.render() }));
