import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BrowserContext } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { DIST_DIR, REPO_ROOT, SOURCE_DIST_DIR } from './paths.ts';
import { serveStatic, type StaticServer } from './static-server.ts';

const run = promisify(execFile);
/** The package whose `dist/` the run tests (the repository, unless `SHARED_SESSION_DIST` points elsewhere). */
const PACKAGE_DIR = path.dirname(path.resolve(SOURCE_DIST_DIR));

/**
 * Stages the package to pack in `dir`: its package.json and docs with the run's snapshot of `dist/`
 * (global setup's), not the live one, which a rebuild in the shared work tree may be rewriting.
 */
async function stagePackage(dir: string): Promise<void> {
  await mkdir(dir);
  for (const file of ['package.json', 'README.md', 'PROTOCOL.md']) {
    if (existsSync(path.join(PACKAGE_DIR, file))) await copyFile(path.join(PACKAGE_DIR, file), path.join(dir, file));
  }
  await cp(DIST_DIR, path.join(dir, 'dist'), { recursive: true });
}

/**
 * Opens `count` tabs of the app at `url` one after the other; in each, creates a `SessionClient` for
 * `serverUrl` and starts a session with `token`. Returns each tab's startSession → OPEN time, ms.
 */
async function startInTabs(
  context: BrowserContext,
  url: string,
  serverUrl: string,
  token: string,
  count: number,
): Promise<number[]> {
  const openMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => 'SessionClient' in window);
    openMs.push(
      await page.evaluate(
        async ([s, t]) => {
          const { SessionClient } = window as unknown as { SessionClient: Window['SS']['SessionClient'] };
          const started = performance.now();
          const client = new SessionClient({ serverUrl: s });
          window.client = client;
          await client.startSession(t);
          if (client.connectionStatus !== 'OPEN') {
            await new Promise<void>((resolve) => {
              const off = client.onConnectionStatusChange((status) => {
                if (status === 'OPEN') {
                  off();
                  resolve();
                }
              });
            });
          }
          return performance.now() - started;
        },
        [serverUrl, token] as const,
      ),
    );
  }
  return openMs;
}

/** `client.hostKind` of every tab of `context`. */
function hostKinds(context: BrowserContext): Promise<string[]> {
  return Promise.all(context.pages().map((page) => page.evaluate(() => window.client.hostKind)));
}

/**
 * The tarball `npm pack` makes, installed into a fresh Vite app that has no config and no plugin:
 * the worker bundle must be found through `new URL(…, import.meta.url)` alone (spec §2), in `vite build`
 * and under Vite's dev server, where the package is pre-bundled.
 */
test.describe('the packed package', () => {
  let workDir: string;
  let app: StaticServer;
  /** The built app's scripts (page bundle and the re-bundled worker). */
  let bundles: string[];

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    const started = performance.now();
    workDir = await mkdtemp(path.join(tmpdir(), 'shared-session-packed-'));
    const env = { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' };

    const staged = path.join(workDir, 'package');
    await stagePackage(staged);
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workDir], { cwd: staged, env });
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    const viteVersion = (
      JSON.parse(await readFile(path.join(REPO_ROOT, 'node_modules/vite/package.json'), 'utf8')) as { version: string }
    ).version;

    await writeFile(
      path.join(workDir, 'package.json'),
      JSON.stringify(
        {
          name: 'packed-consumer',
          private: true,
          type: 'module',
          dependencies: { 'shared-session': `file:./${path.basename(filename)}`, vite: viteVersion },
        },
        null,
        2,
      ),
    );
    await writeFile(
      path.join(workDir, 'index.html'),
      '<!doctype html>\n<html><head><meta charset="utf-8" /></head>\n' +
        '<body><script type="module" src="./main.ts"></script></body></html>\n',
    );
    await writeFile(
      path.join(workDir, 'main.ts'),
      "import { SessionClient, NoActiveSessionError, SessionError } from 'shared-session';\n\n" +
        'Object.assign(window, { SessionClient, NoActiveSessionError, SessionError });\n',
    );

    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: workDir, env });
    await run(process.execPath, [path.join(workDir, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: workDir,
      env,
    });
    const assets = await readdir(path.join(workDir, 'dist/assets'));
    bundles = await Promise.all(
      assets
        .filter((file) => file.endsWith('.js'))
        .map((file) => readFile(path.join(workDir, 'dist/assets', file), 'utf8')),
    );
    console.log(
      `packed package: ${path.basename(filename)} installed and built with vite ${viteVersion} in ` +
        `${Math.round(performance.now() - started)} ms; assets: ${assets.join(', ')}`,
    );
    app = await serveStatic(path.join(workDir, 'dist'));
  });

  test.afterAll(async () => {
    await app?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('two tabs of an app built from the tarball without a worker config reach OPEN over one socket', async ({
    context,
    server,
    mintToken,
  }) => {
    const token = await mintToken({ sub: 'alice' });
    const openMs = await startInTabs(context, app.url, server.url, token, 2);
    console.log(`timing (packed app): startSession → OPEN ${openMs.map((ms) => ms.toFixed(1)).join(' ms, ')} ms`);
    expect(await hostKinds(context)).toEqual(['shared-worker', 'shared-worker']);
    expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
    expect(server.stats().socketsByUser['alice']).toBe(1);
  });

  test('in the minified production build, an error thrown through the host keeps its name, class and code', async ({
    page,
    server,
  }) => {
    // Vite's default production build minifies: the page bundle and the worker it re-bundles lose
    // their class names, so only literal `name`s survive (spec §2).
    expect(bundles.length, 'page and worker bundles').toBeGreaterThanOrEqual(2);
    for (const code of bundles) expect(code, 'a minified bundle').not.toMatch(/class NoActiveSessionError\b/);
    await page.goto(app.url);
    await page.waitForFunction(() => 'SessionClient' in window);
    const caught = await page.evaluate(async (serverUrl) => {
      const { SessionClient, NoActiveSessionError, SessionError } = window as unknown as {
        SessionClient: Window['SS']['SessionClient'];
        NoActiveSessionError: Window['SS']['errors']['NoActiveSessionError'];
        SessionError: Window['SS']['errors']['SessionError'];
      };
      const client = new SessionClient({ serverUrl });
      try {
        await client.updateSessionToken('a.b.c'); // no session runs: the host throws NoActiveSessionError
        return undefined;
      } catch (error) {
        const e = error as InstanceType<typeof SessionError>;
        return {
          name: e.name,
          code: e.code,
          isNoActiveSessionError: e instanceof NoActiveSessionError,
          isSessionError: e instanceof SessionError,
          localName: new NoActiveSessionError().name,
          staticCode: (NoActiveSessionError as unknown as { code: string }).code,
          hostKind: client.hostKind,
        };
      } finally {
        client.close();
      }
    }, server.url);
    expect(caught).toEqual({
      name: 'NoActiveSessionError',
      code: 'NO_ACTIVE_SESSION',
      isNoActiveSessionError: true,
      isSessionError: true,
      localName: 'NoActiveSessionError',
      staticCode: 'NO_ACTIVE_SESSION',
      hostKind: 'shared-worker',
    });
  });

  test("two tabs of the same app under Vite's dev server (dependencies pre-bundled, no plugin) reach OPEN over one socket", async ({
    browser,
    context,
    server,
    mintToken,
  }) => {
    // The temp app's own Vite, as `npx vite` there would run it: no config file, no plugin.
    const vite = (await import(
      pathToFileURL(path.join(workDir, 'node_modules/vite/dist/node/index.js')).href
    )) as typeof import('vite');
    const dev = await vite.createServer({
      root: workDir,
      configFile: false,
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, strictPort: true, watch: null },
    });
    try {
      await dev.listen();
      const url = dev.resolvedUrls?.local[0];
      expect(url, 'the dev server listens').toBeTruthy();
      const token = await mintToken({ sub: 'alice' });
      const openMs = await startInTabs(context, url!, server.url, token, 2);

      // The page loaded shared-session from Vite's pre-bundled deps, and the worker came from the package.
      const scripts = await context
        .pages()[0]!
        .evaluate(() => performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname));
      const prebundled = scripts.filter((name) => name.includes('/.vite/deps/'));
      const cdp = await browser.newBrowserCDPSession();
      const { targetInfos } = (await cdp.send('Target.getTargets')) as {
        targetInfos: { type: string; url: string }[];
      };
      await cdp.detach();
      const workers = targetInfos.filter((t) => t.type === 'shared_worker').map((t) => new URL(t.url).pathname);
      console.log(
        `vite dev: startSession → OPEN ${openMs.map((ms) => ms.toFixed(1)).join(' ms, ')} ms; ` +
          `pre-bundled: ${prebundled.join(', ')}; SharedWorker: ${workers.join(', ')}`,
      );
      expect(
        prebundled.some((name) => /shared-session/.test(name)),
        'shared-session was pre-bundled',
      ).toBe(true);
      expect(workers).toHaveLength(1);
      expect(await hostKinds(context), 'the SharedWorker host, not the leader fallback').toEqual([
        'shared-worker',
        'shared-worker',
      ]);
      expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
      expect(server.stats().socketsByUser['alice']).toBe(1);
    } finally {
      await dev.close();
    }
  });
});
