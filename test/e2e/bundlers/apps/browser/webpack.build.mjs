// webpack 5 with its defaults (production mode, no loader, no plugin): it emits the worker from
// `new SharedWorker(new URL(…, import.meta.url))` by itself.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import webpack from 'webpack';

const dir = import.meta.dirname;
const stats = await new Promise((resolve, reject) =>
  webpack(
    { mode: 'production', context: dir, entry: './main.js', output: { path: path.join(dir, 'dist') } },
    (error, result) => (error ? reject(error) : resolve(result)),
  ),
);
const info = stats.toJson({ all: false, errors: true, warnings: true });
if (stats.hasErrors()) throw new Error(info.errors.map((e) => e.message).join('\n'));
for (const warning of info.warnings) console.warn(`webpack warning: ${warning.message}`);
await copyFile(path.join(dir, 'classic.html'), path.join(dir, 'dist/index.html'));
