import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publint } from 'publint';
import { NPM_ENV, packPackage, runCommand } from './bundlers/consumer.ts';
import { expect, test } from './fixtures.ts';

/** Every file under `dir` (relative paths), following no links. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}

/**
 * publint's remaining message, explained: publint guesses a file's module format with regular
 * expressions, and `dist/worker.js` (an ES module with no import or export: it only runs
 * `hostSession(self)`) has a class method named `require()` (SessionController), which its CommonJS
 * pattern matches. Renaming that method in src/worker would clear it.
 */
const EXPLAINED_PUBLINT_MESSAGES = [
  {
    code: 'FILE_INVALID_FORMAT',
    path: ['exports', './worker.js'],
    actualFormat: 'CJS',
    why: 'a method named require()',
  },
];

/**
 * What a team that installs the tarball gets: a browser-only install with no native code and no
 * install-script warning, every entry its peers allow importable in plain Node, the testing kit's
 * Node half without Playwright, a clear error for a store whose optional peer is missing, and a
 * package publint finds nothing to fix in. (The bundler matrix, test/e2e/bundlers, builds apps from
 * the same tarball.)
 */
test.describe('the packed package, installed on its own', () => {
  let dir: string;
  let installOutput: string;
  let installMs: number;

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    dir = await mkdtemp(path.join(tmpdir(), 'shared-session-lean-'));
    const tarball = await packPackage(dir);
    await writeFile(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name: 'lean-consumer', private: true, type: 'module' }, null, 2)}\n`,
    );
    const started = performance.now();
    // npm's default log level: its warnings (install scripts, peer conflicts) are what a user sees.
    const { stdout, stderr } = await runCommand(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${path.basename(tarball)}`],
      dir,
      { ...NPM_ENV, npm_config_loglevel: 'warn' },
    );
    installMs = Math.round(performance.now() - started);
    installOutput = `${stdout}\n${stderr}`;
  });

  test.afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a browser-only install pulls no native code, no server store and prints no install-script warning', async () => {
    const installed = await readdir(path.join(dir, 'node_modules'));
    console.log(`lean install: ${installMs} ms; node_modules: ${installed.join(', ')}`);
    expect(installOutput).not.toMatch(/install-scripts|install script/i);
    expect(installOutput).not.toMatch(/ERESOLVE|peer dep/i);
    for (const name of ['lmdb', 'ioredis', '@lmdb', 'msgpackr-extract', '@playwright', 'react', 'vue', 'svelte']) {
      expect(installed, `${name} is an optional peer`).not.toContain(name);
    }
    const files = await filesUnder(path.join(dir, 'node_modules'));
    const native = files.filter((file) => file.endsWith('.node') || file.endsWith('binding.gyp'));
    expect(native, 'native addons').toEqual([]);
    // The five pure-JS dependencies (workbox-window brings workbox-core and @types/trusted-types).
    expect(installed.sort()).toEqual(
      [
        '.bin',
        '.package-lock.json',
        '@types',
        'comlink',
        'idb',
        'jose',
        'shared-session',
        'workbox-core',
        'workbox-window',
        'ws',
      ].sort(),
    );
  });

  test('the tarball ships dist, the docs, LICENSE and CHANGELOG, and no tests, sources or .tmp', async () => {
    const shipped = await filesUnder(path.join(dir, 'node_modules/shared-session'));
    const topLevel = [...new Set(shipped.map((file) => file.split(path.sep)[0]))].sort();
    expect(topLevel).toEqual(['CHANGELOG.md', 'LICENSE', 'PROTOCOL.md', 'README.md', 'dist', 'package.json']);
    expect(shipped.filter((file) => /\.(test|spec)\.|\.tsbuildinfo$|(^|\/)\.tmp\//.test(file))).toEqual([]);
    // Source maps carry their sources (src/ is not shipped): each map has the text of every source.
    const maps = shipped.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const file of maps) {
      const map = JSON.parse(await readFile(path.join(dir, 'node_modules/shared-session', file), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(
        map.sourcesContent?.every((text) => typeof text === 'string' && text.length > 0),
        file,
      ).toBe(true);
    }
    const license = await readFile(path.join(dir, 'node_modules/shared-session/LICENSE'), 'utf8');
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'node_modules/shared-session/package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(license).toMatch(/^MIT License/);
    expect(manifest).toMatchObject({ license: 'MIT', repository: { type: 'git' }, bugs: {}, homepage: /^https:/ });
  });

  test('every entry whose peers are installed imports in plain Node, and shared-session/worker.js resolves', async () => {
    const script = `
      const entries = ['shared-session', 'shared-session/page', 'shared-session/worker', 'shared-session/server',
        'shared-session/errors', 'shared-session/testing/node'];
      const exported = {};
      for (const entry of entries) exported[entry] = Object.keys(await import(entry)).length;
      const peerless = {};
      for (const entry of ['shared-session/testing', 'shared-session/react', 'shared-session/vue', 'shared-session/svelte']) {
        try { await import(entry); peerless[entry] = 'imported'; }
        catch (error) { peerless[entry] = /Cannot find (package|module) '([^']+)'/.exec(error.message)?.[2] ?? error.message; }
      }
      const worker = import.meta.resolve('shared-session/worker.js');
      console.log(JSON.stringify({ exported, peerless, worker }));
    `;
    const { stdout } = await runCommand(process.execPath, ['--input-type=module', '-e', script], dir);
    const { exported, peerless, worker } = JSON.parse(stdout) as {
      exported: Record<string, number>;
      peerless: Record<string, string>;
      worker: string;
    };
    for (const [entry, count] of Object.entries(exported)) expect(count, entry).toBeGreaterThan(0);
    // Without their optional peer these entries say which package is missing.
    expect(peerless).toEqual({
      'shared-session/testing': '@playwright/test',
      'shared-session/react': 'react',
      'shared-session/vue': 'vue',
      'shared-session/svelte': 'svelte',
    });
    expect(worker).toMatch(/\/node_modules\/shared-session\/dist\/worker\.js$/);
  });

  test('createTokenMinter works without Playwright; a store whose optional peer is missing says what to install', async () => {
    const script = `
      import { createTokenMinter } from 'shared-session/testing/node';
      import { createSessionServer } from 'shared-session/server';
      const secret = 'a-test-secret-of-at-least-32-bytes!!';
      const token = await createTokenMinter(secret)({ sub: 'alice' });
      const memory = await createSessionServer({ port: 0, host: '127.0.0.1', auth: { secret }, logger: false });
      await memory.close();
      const failures = {};
      for (const [name, store] of [['lmdb', { path: './data' }], ['ioredis', { redis: 'redis://127.0.0.1:9' }]]) {
        try {
          const server = await createSessionServer({ port: 0, host: '127.0.0.1', auth: { secret }, logger: false, store });
          await server.close();
          failures[name] = 'started';
        } catch (error) {
          failures[name] = { name: error.name, code: error.code, packageName: error.packageName, message: error.message };
        }
      }
      console.log(JSON.stringify({ segments: token.split('.').length, failures }));
    `;
    const { stdout } = await runCommand(process.execPath, ['--input-type=module', '-e', script], dir);
    const { segments, failures } = JSON.parse(stdout) as {
      segments: number;
      failures: Record<string, { name: string; code: string; packageName: string; message: string }>;
    };
    expect(segments, 'a JWT').toBe(3);
    for (const name of ['lmdb', 'ioredis']) {
      expect(failures[name]).toMatchObject({
        name: 'MissingPeerDependencyError',
        code: 'MISSING_PEER_DEPENDENCY',
        packageName: name,
      });
      expect(failures[name]?.message).toContain(`run \`npm install ${name}\``);
    }
    expect(existsSync(path.join(dir, 'data')), 'no store directory is made before the peer loads').toBe(false);
  });

  test('publint finds nothing to fix in the installed package (one explained false positive)', async () => {
    const { messages } = await publint({ pkgDir: path.join(dir, 'node_modules/shared-session'), pack: false });
    const unexplained = messages.filter(
      (message) =>
        !EXPLAINED_PUBLINT_MESSAGES.some(
          (known) =>
            known.code === message.code &&
            known.path.join('.') === message.path.join('.') &&
            (message.args as { actualFormat?: string }).actualFormat === known.actualFormat,
        ),
    );
    console.log(`publint: ${messages.length} message(s), ${unexplained.length} unexplained`);
    expect(unexplained).toEqual([]);
  });
});
