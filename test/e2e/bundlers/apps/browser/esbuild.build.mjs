// esbuild's browser defaults (iife): `import.meta` is empty there, so the page passes `workerUrl`
// pointing at the copy of shared-session/worker.js made here.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = import.meta.dirname;
const result = await build({
  absWorkingDir: dir,
  entryPoints: ['main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  outdir: 'dist',
  logLevel: 'silent',
});
for (const warning of result.warnings) console.warn(`esbuild warning: ${warning.text}`);
await copyFile(
  fileURLToPath(import.meta.resolve('shared-session/worker.js')),
  path.join(dir, 'dist/shared-session-worker.js'),
);
await copyFile(path.join(dir, 'classic.html'), path.join(dir, 'dist/index.html'));
