#!/usr/bin/env node
// Builds dist/: tsc emits every entry (page, worker, server, errors, testing) with declarations;
// Vite bundles the self-contained SharedWorker script dist/worker.js (exported as
// shared-session/worker.js). Then checks the package: every `exports` target exists, the page
// bundle pulls in no idb, ws or node: modules, and every source map carries its sources.
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fail = (msg) => {
  console.error(`[build] ${msg}`);
  process.exit(1);
};
const run = (cmd) => {
  try {
    execSync(cmd, { cwd: root, stdio: 'inherit' });
  } catch {
    fail(`\`${cmd}\` failed (its errors are above)`);
  }
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['page', 'worker', 'server']) run(`npx tsc -p src/${project}/tsconfig.json`);
// The framework bindings (shared-session/react, /vue, /svelte) and their store layer, in one pass.
run('npx tsc -p src/bindings/tsconfig.build.json');
run('npx tsc -p src/devtools/tsconfig.json'); // shared-session/devtools: the <shared-session-devtools> panel
run('npx vite build --logLevel warn');
chmodSync(join(root, 'dist/server/cli.js'), 0o755);

// The build id comes from the build: the placeholder of src/protocol/version.ts becomes
// `shared-session@<version>+<hash of the emitted code>` in every emitted file (page, worker bundle,
// server), so two builds with different code never share an id (version skew, spec §4).
const BUILD_ID_PLACEHOLDER = 'shared-session@source';
const pkgVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const emitted = readdirSync(join(root, 'dist'), { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.js'))
  .sort();
const hash = createHash('sha256');
for (const file of emitted) hash.update(file).update(readFileSync(join(root, 'dist', file)));
const buildId = `shared-session@${pkgVersion}+${hash.digest('hex').slice(0, 12)}`;
let stamped = 0;
for (const file of emitted) {
  const path = join(root, 'dist', file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(BUILD_ID_PLACEHOLDER)) continue;
  writeFileSync(path, text.replaceAll(BUILD_ID_PLACEHOLDER, buildId));
  stamped++;
}
for (const file of ['protocol/version.js', 'worker.js']) {
  if (readFileSync(join(root, 'dist', file), 'utf8').includes(BUILD_ID_PLACEHOLDER) || !stamped) {
    fail(`the build id placeholder was not replaced in dist/${file}`);
  }
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
for (const target of [...targets, ...Object.values(pkg.bin), './dist/worker.js']) {
  if (!existsSync(join(root, target))) fail(`missing build output ${target}`);
}

const forbidden = /from\s+['"](idb|ws|node:[^'"]+)['"]/;
for (const dir of ['page', 'errors', 'protocol']) {
  for (const file of readdirSync(join(root, 'dist', dir), { recursive: true })) {
    if (!String(file).endsWith('.js')) continue;
    const match = readFileSync(join(root, 'dist', dir, String(file)), 'utf8').match(forbidden);
    if (match) fail(`dist/${dir}/${file} imports ${match[1]}: page code must not depend on it`);
  }
}
// shared-session/testing/node must load where @playwright/test is not installed: no module it reaches
// through relative imports may import Playwright.
const reached = new Set();
const visit = (file) => {
  if (reached.has(file)) return;
  reached.add(file);
  const text = readFileSync(file, 'utf8');
  const playwright = text.match(/from\s+['"](@playwright\/[^'"]+|playwright[^'"]*)['"]/);
  if (playwright) fail(`${file.slice(root.length + 1)} imports ${playwright[1]}, reached from dist/testing/node.js`);
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    visit(join(dirname(file), spec));
  }
};
visit(join(root, 'dist/testing/node.js'));

// Frameworks are optional peers: the core never imports one, and each binding imports only its own.
const importsOf = (dir) =>
  readdirSync(join(root, 'dist', dir), { recursive: true })
    .filter((file) => String(file).endsWith('.js'))
    .flatMap((file) => {
      const text = readFileSync(join(root, 'dist', dir, String(file)), 'utf8');
      return [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)].map((m) => [
        `dist/${dir}/${file}`,
        m[1],
      ]);
    });
const frameworkOf = (specifier) => /^(react|react-dom|vue|svelte)(\/|$)/.exec(specifier)?.[1];
const allowedFramework = { react: 'react', vue: 'vue', svelte: 'svelte' };
for (const dir of ['page', 'errors', 'protocol', 'shared', 'bindings', 'worker', 'react', 'vue', 'svelte']) {
  for (const [file, specifier] of importsOf(dir)) {
    const framework = frameworkOf(specifier);
    if (framework && framework !== allowedFramework[dir])
      fail(`${file} imports ${specifier}: only dist/${framework}/ may`);
  }
}
// Source maps ship their sources: src/ is not in the package, so every map must carry the text of
// each source it names (tsc's inlineSources, Vite's default) or a debugger shows nothing.
let maps = 0;
for (const file of readdirSync(join(root, 'dist'), { recursive: true }).map(String)) {
  if (!file.endsWith('.map')) continue;
  maps++;
  const { sources = [], sourcesContent = [] } = JSON.parse(readFileSync(join(root, 'dist', file), 'utf8'));
  const missing = sources.filter((_source, i) => typeof sourcesContent[i] !== 'string');
  if (sources.length === 0 || missing.length > 0)
    fail(`dist/${file} does not carry the text of ${missing.join(', ') || 'any source'} (inlineSources)`);
}
if (maps === 0) fail('no source maps were emitted');

// shared-session/devtools has no dependency: nothing it reaches imports a package or a built-in.
const devtoolsReached = [join(root, 'dist/devtools/index.js')];
for (const file of devtoolsReached) {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, ''); // TSDoc examples import
  for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    if (!spec.startsWith('.')) fail(`${file.slice(root.length + 1)} imports ${spec}: shared-session/devtools must not`);
    const next = join(dirname(file), spec);
    if (!devtoolsReached.includes(next)) devtoolsReached.push(next);
  }
}
const worker = readFileSync(join(root, 'dist/worker.js'), 'utf8');
if (/^\s*import\s.+from\s+['"][^./]/m.test(worker)) fail('dist/worker.js must be self-contained (bare import found)');
console.log(`[build] dist/ ready (build ${buildId})`);
