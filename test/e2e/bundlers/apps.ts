import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveStatic } from '../static-server.ts';
import { CONSUMER_DIR, runCommand } from './consumer.ts';
import { startServerProcess } from './processes.ts';

/** The app templates (test/e2e/bundlers/apps), copied into the consumer directory to be built there. */
const TEMPLATES = fileURLToPath(new URL('./apps/', import.meta.url));

/** A served app. */
export interface RunningApp {
  /** The page to open. */
  url: string;
  close(): Promise<void>;
}

/** An app built (or a dev server started) for one row of the matrix. */
export interface BuiltApp {
  /** Milliseconds the build took (`undefined` for a dev server). */
  buildMs: number | undefined;
  /** The build's warning lines (each bundler builds the tiny app without any, so every one is news). */
  warnings: string[];
  serve(): Promise<RunningApp>;
}

/** One browser row: how the app is built and served, and whether it passes `workerUrl`. */
export interface BrowserRow {
  /** The bundler and mode, as the table prints it. */
  bundler: string;
  /** The copy of shared-session/worker.js the app serves, passed as `workerUrl`; `undefined`: none needed. */
  workerUrl: string | undefined;
  /** What the page's first heading says when it was rendered on the server (Next), to check SSR. */
  serverRenderedHeading?: RegExp;
  /** How long the row's test may take on a slow machine (builds included). */
  timeoutMs: number;
  build(): Promise<BuiltApp>;
}

/** Copies `template` into the consumer directory as `name` (build caches in it survive) and returns its path. */
async function stageApp(template: string, name: string, clean: string[] = ['dist']): Promise<string> {
  const dir = path.join(CONSUMER_DIR, 'apps', name);
  for (const output of clean) await rm(path.join(dir, output), { recursive: true, force: true });
  await cp(path.join(TEMPLATES, template), dir, { recursive: true, force: true });
  return dir;
}

/** Lines of a build's output that warn (webpack, Rollup's `(!)`, Next's `⚠`, Turbopack's "Module not found"). */
const WARNING_LINE = /warn|\(!\)|⚠|critical dependency|can't resolve|module not found/i;

/**
 * Warnings about the build machine, not the package: Next's first build in a fresh cache directory
 * (every CI run) says it found no build cache.
 */
const ABOUT_THE_MACHINE = /No build cache found/;

/** Runs a build command in `dir`; returns how long it took and the lines of its output that warn. */
async function timedBuild(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ buildMs: number; warnings: string[] }> {
  const started = performance.now();
  const { stdout, stderr } = await runCommand(process.execPath, args, dir, {
    ...process.env,
    ...env,
    NEXT_TELEMETRY_DISABLED: '1',
  });
  const warnings = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) => WARNING_LINE.test(line) && !ABOUT_THE_MACHINE.test(line));
  return { buildMs: Math.round(performance.now() - started), warnings };
}

/** Serves `dir` statically on 127.0.0.1 and a free port. */
function staticApp(dir: string): () => Promise<RunningApp> {
  return async () => {
    const server = await serveStatic(dir);
    return { url: server.url, close: () => server.close() };
  };
}

/** A bin script of the consumer's `node_modules`. */
const bin = (file: string) => path.join(CONSUMER_DIR, 'node_modules', file);

/** Builds once per run, however many rows share the build (the two Next routers). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** One Next app with an App Router and a Pages Router page, built with `bundler` into its own distDir. */
function nextBuild(
  bundler: 'turbopack' | 'webpack',
): () => Promise<{ buildMs: number; warnings: string[]; distDir: string; dir: string }> {
  return once(async () => {
    const distDir = `.next-${bundler}`;
    const dir = await stageApp('next', 'next', []);
    const args = [bin('next/dist/bin/next'), 'build', ...(bundler === 'webpack' ? ['--webpack'] : [])];
    return { ...(await timedBuild(dir, args, { NEXT_DIST_DIR: distDir })), distDir, dir };
  });
}

function nextRow(bundler: 'turbopack' | 'webpack', router: 'app' | 'pages'): BrowserRow {
  const build = nextBuilds[bundler];
  return {
    bundler: `Next 16 ${router === 'app' ? 'App' : 'Pages'} Router (${bundler === 'turbopack' ? 'Turbopack' : 'webpack'})`,
    workerUrl: undefined,
    // React puts `<!-- -->` between adjacent text nodes.
    serverRenderedHeading:
      router === 'app'
        ? /App Router: SessionError is a (<!-- -->)?function/
        : /Pages Router: SessionClient is a (<!-- -->)?function/,
    timeoutMs: 240_000,
    async build() {
      const built = await build();
      return {
        buildMs: built.buildMs,
        warnings: built.warnings,
        async serve() {
          const next = await startServerProcess(
            'serve.mjs',
            built.dir,
            { NEXT_DIST_DIR: built.distDir },
            /listening on (\S+)/,
            60_000,
          );
          return { url: new URL(router === 'app' ? 'app-router' : 'pages-router', next.url).href, close: next.stop };
        },
      };
    },
  };
}

const nextBuilds = { turbopack: nextBuild('turbopack'), webpack: nextBuild('webpack') };

/**
 * The Vite production build (minified), once per run: its row and the minified-errors test share it.
 * `dir` is the built app, for reading its assets.
 */
export const viteBuild = once(async (): Promise<BuiltApp & { dir: string }> => {
  const dir = await stageApp('browser', 'vite-build');
  const built = await timedBuild(dir, [bin('vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  return { ...built, dir: path.join(dir, 'dist'), serve: staticApp(path.join(dir, 'dist')) };
});

/** The rows that run in a browser: each app is built from the tarball and opened in two tabs. */
export const BROWSER_ROWS: BrowserRow[] = [
  {
    bundler: 'Vite 8 (build)',
    workerUrl: undefined,
    timeoutMs: 90_000,
    build: () => viteBuild(),
  },
  {
    bundler: 'Vite 8 (dev server)',
    workerUrl: undefined,
    timeoutMs: 90_000,
    async build() {
      const dir = await stageApp('browser', 'vite-dev', ['node_modules/.vite']);
      return {
        buildMs: undefined,
        warnings: [],
        async serve() {
          // The consumer's own Vite, as `npx vite` there would run it: no config file, no plugin.
          const vite = (await import(pathToFileURL(bin('vite/dist/node/index.js')).href)) as typeof import('vite');
          const dev = await vite.createServer({
            root: dir,
            configFile: false,
            logLevel: 'warn',
            server: { host: '127.0.0.1', port: 0, strictPort: true, watch: null },
          });
          await dev.listen();
          const url = dev.resolvedUrls?.local[0];
          if (!url) throw new Error('the Vite dev server did not say where it listens');
          return { url, close: () => dev.close() };
        },
      };
    },
  },
  {
    bundler: 'webpack 5',
    workerUrl: undefined,
    timeoutMs: 90_000,
    async build() {
      const dir = await stageApp('browser', 'webpack');
      return { ...(await timedBuild(dir, ['webpack.build.mjs'])), serve: staticApp(path.join(dir, 'dist')) };
    },
  },
  nextRow('turbopack', 'app'),
  nextRow('turbopack', 'pages'),
  nextRow('webpack', 'app'),
  nextRow('webpack', 'pages'),
  {
    bundler: 'Rollup 4 (node-resolve)',
    workerUrl: 'shared-session-worker.js',
    timeoutMs: 90_000,
    async build() {
      const dir = await stageApp('browser', 'rollup');
      const built = await timedBuild(dir, [bin('rollup/dist/bin/rollup'), '-c']);
      return { ...built, serve: staticApp(path.join(dir, 'dist')) };
    },
  },
  {
    bundler: 'Rollup 4 + @web/rollup-plugin-import-meta-assets',
    workerUrl: undefined,
    timeoutMs: 90_000,
    async build() {
      const dir = await stageApp('browser', 'rollup-import-meta-assets');
      const built = await timedBuild(dir, [bin('rollup/dist/bin/rollup'), '-c'], { ROLLUP_IMPORT_META_ASSETS: '1' });
      return { ...built, serve: staticApp(path.join(dir, 'dist')) };
    },
  },
  {
    bundler: 'esbuild (iife)',
    workerUrl: 'shared-session-worker.js',
    timeoutMs: 90_000,
    async build() {
      const dir = await stageApp('browser', 'esbuild');
      return { ...(await timedBuild(dir, ['esbuild.build.mjs'])), serve: staticApp(path.join(dir, 'dist')) };
    },
  },
];

/** What a Node row's script reports: the names each entry exports and what `new SessionClient()` threw. */
export interface EntriesReport {
  exported: Record<string, number>;
  construct: string;
}

/** One row that runs in Node (no browser): it imports every entry of the package. */
export interface NodeRow {
  bundler: string;
  timeoutMs: number;
  /** Runs the row; resolves with how long it took and the reports to check. */
  run(): Promise<{ ms: number; reports: EntriesReport[]; html: string[] }>;
}

/** Runs `args` with node in the staged Node app and parses the JSON it prints last. */
async function nodeJson<T>(args: string[]): Promise<{ ms: number; value: T }> {
  const dir = await stageApp('node', 'node', ['dist-ssr']);
  const started = performance.now();
  const { stdout } = await runCommand(process.execPath, args, dir);
  const ms = Math.round(performance.now() - started);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return { ms, value: JSON.parse(last) as T };
}

/** The rows that run in Node. */
export const NODE_ROWS: NodeRow[] = [
  {
    bundler: 'Node 20 (plain ESM)',
    timeoutMs: 60_000,
    async run() {
      const { ms, value } = await nodeJson<EntriesReport>(['run-node.mjs']);
      return { ms, reports: [value], html: [] };
    },
  },
  {
    bundler: 'Vite 8 SSR (ssrLoadModule + build --ssr)',
    timeoutMs: 90_000,
    async run() {
      type Rendered = EntriesReport & { html: string };
      const { ms, value } = await nodeJson<{ dev: Rendered; build: Rendered }>(['vite-ssr.mjs']);
      return { ms, reports: [value.dev, value.build], html: [value.dev.html, value.build.html] };
    },
  },
  {
    bundler: 'Vitest 4 (node environment)',
    timeoutMs: 90_000,
    async run() {
      const dir = await stageApp('node', 'node', ['vitest-report.json']);
      const started = performance.now();
      await runCommand(
        process.execPath,
        [bin('vitest/vitest.mjs'), 'run', '--root', dir, '--reporter=json', '--outputFile=vitest-report.json'],
        dir,
      );
      const ms = Math.round(performance.now() - started);
      const report = JSON.parse(await readFile(path.join(dir, 'vitest-report.json'), 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
      };
      if (report.numPassedTests !== 1 || report.numFailedTests !== 0) {
        throw new Error(`vitest in the consumer: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
      }
      // The test itself asserted the entries; the row reports it passed.
      return { ms, reports: [], html: [] };
    },
  },
];
