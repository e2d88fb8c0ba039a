import { createTokenMinter, expect, test } from '../fixtures.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { BROWSER_ROWS, NODE_ROWS, viteBuild } from './apps.ts';
import { type Consumer, prepareConsumer } from './consumer.ts';
import { startServerProcess } from './processes.ts';
import { WebSocket } from 'ws';
import { WIRE_PROTOCOL_VERSION } from '../../../src/protocol/version.ts';
import { callWithoutSession, sharedWorkerPaths, startInTabs, startWithoutWorkerUrl } from './tabs.ts';

/** One line of the printed table. */
interface MatrixResult {
  bundler: string;
  buildMs: number | undefined;
  workerAsset: string;
  workerUrl: string;
  result: string;
}

const results: MatrixResult[] = [];

/** The table of every row this worker ran, in the order they ran. */
function formatTable(rows: MatrixResult[]): string {
  const header = ['bundler', 'build', 'worker asset', 'workerUrl', 'result'];
  const lines = rows.map((row) => [
    row.bundler,
    row.buildMs === undefined ? '–' : `${(row.buildMs / 1000).toFixed(1)} s`,
    row.workerAsset,
    row.workerUrl,
    row.result,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

/**
 * The packed tarball (`npm pack`) in fresh apps of every bundler a user may bring: each app builds
 * with the bundler's defaults (no plugin, no `transpilePackages`), and in a browser two tabs reach
 * OPEN over one socket, counted at the package's own server. The apps share one `node_modules`
 * under .tmp/bundlers, cached between runs. Prints a table of build times, the worker asset each
 * bundler emitted (as the browser loaded it) and whether `workerUrl` was needed.
 */
test.describe('bundler matrix: the packed package in consumer apps', () => {
  let consumer: Consumer;

  test.beforeAll(async () => {
    test.setTimeout(900_000); // a first run downloads every bundler; later runs swap the tarball in seconds
    consumer = await prepareConsumer();
    console.log(
      `bundler matrix: tarball ${consumer.firstInstall ? 'and bundlers installed' : 'installed'} into ` +
        `${consumer.dir} in ${consumer.installMs} ms`,
    );
  });

  test.afterAll(() => {
    if (results.length > 0) console.log(`bundler matrix (this machine):\n${formatTable(results)}`);
  });

  for (const row of BROWSER_ROWS) {
    test(`${row.bundler}: two tabs reach OPEN over one socket`, async ({ browser, context, server, mintToken }) => {
      test.setTimeout(row.timeoutMs);
      const built = await row.build();
      expect(built.warnings, 'the build warns about nothing').toEqual([]);
      const app = await built.serve();
      try {
        if (row.workerUrl !== undefined) {
          // Without workerUrl this bundler leaves the worker behind: the start fails with the typed
          // error that says what to do, and opens no socket.
          const failure = await startWithoutWorkerUrl(browser, app.url, server.url, await mintToken({ sub: 'bob' }));
          expect(failure, 'startSession without workerUrl').toMatchObject({
            name: 'HostUnavailableError',
            code: 'HOST_UNAVAILABLE',
            isHostUnavailableError: true,
          });
          expect(failure?.message).toContain("new URL('../worker.js', import.meta.url)");
          expect(failure?.message).toContain('pass its URL as `workerUrl`');
          expect(failure?.message).toContain('see "Bundlers" in the shared-session README');
          expect(server.stats().socketsOpened).toBe(0);
        }

        const token = await mintToken({ sub: 'alice' });
        const { openMs, hostKinds } = await startInTabs(context, app.url, {
          serverUrl: server.url,
          token,
          workerUrl: row.workerUrl,
          count: 2,
        });
        expect(hostKinds, 'the SharedWorker host, not the leader fallback').toEqual(['shared-worker', 'shared-worker']);
        expect(server.stats()).toMatchObject({ sockets: 1, socketsOpened: 1 });
        expect(server.stats().socketsByUser['alice']).toBe(1);
        const workers = await sharedWorkerPaths(browser, new URL(app.url).origin);
        expect(workers, 'one SharedWorker for both tabs').toHaveLength(1);
        if (row.serverRenderedHeading) {
          const html = await (await fetch(app.url)).text();
          expect(html, 'the page was rendered on the server with shared-session imported').toMatch(
            row.serverRenderedHeading,
          );
        }
        console.log(
          `${row.bundler}: startSession → OPEN ${openMs.map((ms) => ms.toFixed(0)).join(' ms, ')} ms; ` +
            `SharedWorker ${workers[0]}`,
        );
        results.push({
          bundler: row.bundler,
          buildMs: built.buildMs,
          workerAsset: workers[0]!,
          workerUrl: row.workerUrl === undefined ? 'not needed' : `needed (${row.workerUrl})`,
          result: '2 tabs OPEN, 1 socket',
        });
      } finally {
        await app.close();
      }
    });
  }

  test('in the minified Vite production build, an error thrown through the host keeps its name, class and code', async ({
    page,
    server,
  }) => {
    // Vite's default production build minifies: the page bundle and the worker it re-bundles lose
    // their class names, so only literal `name`s survive (spec §2).
    const built = await viteBuild();
    const assets = (await readdir(path.join(built.dir, 'assets'))).filter((file) => file.endsWith('.js'));
    expect(assets.length, 'page and worker bundles').toBeGreaterThanOrEqual(2);
    for (const file of assets) {
      const code = await readFile(path.join(built.dir, 'assets', file), 'utf8');
      expect(code, `${file} is minified`).not.toMatch(/class NoActiveSessionError\b/);
    }
    const app = await built.serve();
    try {
      expect(await callWithoutSession(page, app.url, server.url)).toEqual({
        name: 'NoActiveSessionError',
        code: 'NO_ACTIVE_SESSION',
        isNoActiveSessionError: true,
        isSessionError: true,
        localName: 'NoActiveSessionError',
        staticCode: 'NO_ACTIVE_SESSION',
        hostKind: 'shared-worker',
      });
    } finally {
      await app.close();
    }
  });

  for (const row of NODE_ROWS) {
    test(`${row.bundler}: every entry imports without a browser`, async () => {
      test.setTimeout(row.timeoutMs);
      const { ms, reports, html } = await row.run();
      for (const report of reports) {
        for (const [entry, count] of Object.entries(report.exported)) expect(count, entry).toBeGreaterThan(0);
        expect(Object.keys(report.exported)).toHaveLength(10);
        expect(report.construct, 'new SessionClient() outside a browser').toBe('HostUnavailableError HOST_UNAVAILABLE');
      }
      for (const markup of html) expect(markup).toBe('<p>SessionClient is a function, SessionProvider a function</p>');
      results.push({
        bundler: row.bundler,
        buildMs: ms,
        workerAsset: '–',
        workerUrl: '–',
        result: 'all 10 entries import; new SessionClient() → HostUnavailableError',
      });
    });
  }

  test('the installed CLI starts without the optional lmdb: topics in memory, a warning that says so, sessions served', async () => {
    test.setTimeout(60_000);
    const secret = randomBytes(32).toString('hex');
    const cli = await startServerProcess(
      'node_modules/shared-session/dist/server/cli.js',
      consumer.dir,
      { SHARED_SESSION_PORT: '0', SHARED_SESSION_SECRET: secret },
      /listening on (ws:\/\/\S+)/,
      30_000,
    );
    try {
      await expect.poll(() => cli.output()).toContain('lmdb is not installed, so topics are kept in memory');
      expect(cli.output()).toContain('`npm install lmdb` keeps them in');
      const socket = new WebSocket(cli.url);
      const frames: Array<{ type: string }> = [];
      socket.on('message', (data) => frames.push(JSON.parse(String(data)) as { type: string }));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const token = await createTokenMinter(secret)({ sub: 'alice' });
      socket.send(JSON.stringify({ type: 'hello', protocol: WIRE_PROTOCOL_VERSION, token, sessionId: randomUUID() }));
      await expect.poll(() => frames.map((frame) => frame.type)).toContain('welcome');
      socket.send(JSON.stringify({ type: 'publish', id: 1, topic: 'notes', clientId: randomUUID(), data: 'hi' }));
      await expect.poll(() => frames.find((frame) => frame.type === 'published')).toMatchObject({ seq: 1 });
      socket.close();
    } finally {
      await cli.stop();
    }
  });
});
