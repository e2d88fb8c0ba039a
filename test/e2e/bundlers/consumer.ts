import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DIST_DIR, REPO_ROOT, SOURCE_DIST_DIR } from '../paths.ts';

const execFileAsync = promisify(execFile);

/** The package whose `dist/` the run tests (the repository, unless `SHARED_SESSION_DIST` points elsewhere). */
const PACKAGE_DIR = path.dirname(path.resolve(SOURCE_DIST_DIR));

/**
 * Where the consumer apps and their one shared `node_modules` live between runs: the first run
 * installs every bundler, later runs only swap in the new tarball. Outside the repository (one
 * directory per checkout, in the system's temp directory), like a real app: inside it, tools that
 * look for their config upwards find the repository's own — Turbopack took tsconfig.json's `paths`
 * and built `src/` instead of the tarball, Vitest ran vite.config.ts. `SHARED_SESSION_BUNDLERS_DIR`
 * overrides it.
 */
export const CONSUMER_DIR =
  process.env.SHARED_SESSION_BUNDLERS_DIR ??
  path.join(tmpdir(), `shared-session-bundlers-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10)}`);

/**
 * What the consumer apps install besides the tarball, at exact versions so that a bundler update is
 * a diff here. React, Vue, Svelte and Playwright are there for the entries that need them as peers.
 */
export const CONSUMER_DEPENDENCIES: Readonly<Record<string, string>> = {
  '@playwright/test': '1.65.1',
  '@rollup/plugin-node-resolve': '16.0.3',
  '@web/rollup-plugin-import-meta-assets': '2.3.3',
  esbuild: '0.28.2',
  next: '16.4.6',
  react: '19.3.1',
  'react-dom': '19.3.1',
  rollup: '4.68.5',
  svelte: '5.57.3',
  vite: '8.3.8',
  vitest: '4.1.12',
  vue: '3.5.45',
  webpack: '5.112.2',
};

/** npm's environment for the tests: quiet, no update check, no browser downloads. */
export const NPM_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  NEXT_TELEMETRY_DISABLED: '1',
};

/** Output of a command that succeeded. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args` in `cwd` and resolves with its output; rejects with the output in the message
 * (a build's errors are the useful part of a failure).
 */
export async function runCommand(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = NPM_ENV,
): Promise<CommandOutput> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${[path.basename(file), ...args].join(' ')}\` failed in ${cwd}:\n${stdout}\n${stderr}`, {
      cause: error,
    });
  }
}

/**
 * Stages the package in a fresh directory and packs it with `npm pack`: its package.json and the
 * files its `files` list names, with the run's snapshot of `dist/` (global setup's), not the live
 * one, which a rebuild in the shared work tree may be rewriting.
 *
 * @param destination - where the tarball goes
 * @returns the tarball's path
 */
export async function packPackage(destination: string): Promise<string> {
  await mkdir(destination, { recursive: true });
  const staged = await mkdtemp(path.join(destination, 'stage-'));
  try {
    const manifest = JSON.parse(await readFile(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { files: string[] };
    await copyFile(path.join(PACKAGE_DIR, 'package.json'), path.join(staged, 'package.json'));
    for (const entry of manifest.files) {
      if (entry === 'dist') await cp(DIST_DIR, path.join(staged, 'dist'), { recursive: true });
      else if (existsSync(path.join(PACKAGE_DIR, entry)))
        await cp(path.join(PACKAGE_DIR, entry), path.join(staged, entry));
    }
    const { stdout } = await runCommand('npm', ['pack', '--json', '--pack-destination', destination], staged);
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    return path.join(destination, filename);
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
}

/** The consumer directory, ready: every bundler installed and the run's tarball in `node_modules`. */
export interface Consumer {
  dir: string;
  /** Milliseconds `npm pack` + `npm install` took (minutes on a first run, seconds after). */
  installMs: number;
  /** Whether this run installed the bundlers (no cached `node_modules` yet). */
  firstInstall: boolean;
}

/**
 * Packs the package and installs it into {@link CONSUMER_DIR} with {@link CONSUMER_DEPENDENCIES}.
 * The tarball always has the same name, so the manifest and lock stay the same between runs and
 * `npm install ./shared-session.tgz` re-extracts only the package (a few seconds).
 */
export async function prepareConsumer(): Promise<Consumer> {
  const started = performance.now();
  await mkdir(CONSUMER_DIR, { recursive: true });
  const packed = await packPackage(path.join(CONSUMER_DIR, 'pack'));
  await rename(packed, path.join(CONSUMER_DIR, 'shared-session.tgz'));
  // npm rewrites the manifest in its own order; what matters is whether the dependencies changed.
  const dependencies = { ...CONSUMER_DEPENDENCIES, 'shared-session': 'file:shared-session.tgz' };
  const manifestPath = path.join(CONSUMER_DIR, 'package.json');
  const current = existsSync(manifestPath)
    ? (JSON.parse(await readFile(manifestPath, 'utf8')) as { dependencies?: Record<string, string> }).dependencies
    : undefined;
  const same =
    current !== undefined &&
    Object.keys(current).length === Object.keys(dependencies).length &&
    Object.entries(dependencies).every(([name, version]) => current[name] === version);
  if (!same) {
    const manifest = { name: 'shared-session-bundler-matrix', private: true, type: 'module', dependencies };
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  const firstInstall = !same || !existsSync(path.join(CONSUMER_DIR, 'node_modules/.package-lock.json'));
  await runCommand(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', './shared-session.tgz'],
    CONSUMER_DIR,
  );
  return { dir: CONSUMER_DIR, installMs: Math.round(performance.now() - started), firstInstall };
}
