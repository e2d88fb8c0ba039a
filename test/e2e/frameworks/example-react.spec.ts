import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from '@playwright/test';
import { build } from 'vite';
import { DIST_DIR, REPO_ROOT } from '../paths.ts';
import { serveStatic, type StaticServer } from '../static-server.ts';
import { expect, test } from './fixtures.ts';

const EXAMPLE_DIR = path.join(REPO_ROOT, 'examples/react');
const OUT_DIR = path.join(REPO_ROOT, '.tmp/e2e-example-react');

/** Answers the example's demo endpoints (`/api/config`, `/api/token?sub=`) the way the demo server does. */
async function routeDemoApi(context: BrowserContext, serverUrl: string, mint: (sub: string) => Promise<string>) {
  await context.route('**/api/config', (route) => route.fulfill({ json: { serverUrl } }));
  await context.route('**/api/token?*', async (route) => {
    const sub = new URL(route.request().url()).searchParams.get('sub') ?? '';
    await route.fulfill({ json: { token: await mint(sub) } });
  });
}

test.describe('examples/react: a chat on shared-session/react', () => {
  let app: StaticServer;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    const started = performance.now();
    process.env.SHARED_SESSION_EXAMPLE_DIST = DIST_DIR;
    await build({
      configFile: path.join(EXAMPLE_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: OUT_DIR, emptyOutDir: true },
    });
    console.log(`examples/react built (production) in ${Math.round(performance.now() - started)} ms`);
    app = await serveStatic(OUT_DIR);
  });

  test.afterAll(() => app?.close());

  test('signing in shows the session and the feed in every tab; older messages load up to the start; it stays live', async ({
    context,
    server,
    mintToken,
    consoleProblems,
  }) => {
    await routeDemoApi(context, server.url, (sub) => mintToken({ sub, expiresIn: 60 }));
    for (let i = 1; i <= 30; i++) await server.publish('chat', { author: 'bot', text: `m${i}` });
    const open = async (): Promise<Page> => {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`[example ${m.type()}] ${m.text()}`);
      });
      page.on('pageerror', (error) => consoleProblems.push(`[example pageerror] ${error.message}`));
      await page.goto(app.url);
      await expect(page.getByTestId('status')).toHaveText('UNINITIALIZED');
      return page;
    };
    const [first, second] = [await open(), await open()];
    const { stdout } = await promisify(execFile)('npx', ['tsc', '-p', path.join(EXAMPLE_DIR, 'tsconfig.json')], {
      cwd: REPO_ROOT,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
    expect(stdout, 'examples/react type-checks against the package').toBe('');

    await first.getByRole('textbox', { name: 'name' }).fill('ada');
    await first.getByRole('button', { name: 'Sign in' }).click();
    for (const page of [first, second]) {
      await expect(page.getByTestId('status')).toHaveText('OPEN');
      await expect(page.getByTestId('user')).toHaveText('ada');
    }
    const messages = (page: Page) => page.getByRole('list', { name: 'messages' }).locator('li');
    await expect(messages(second)).toHaveCount(20);
    await expect(messages(second).first()).toHaveText('bot m11');
    await second.getByRole('button', { name: 'Load older messages' }).click();
    await expect(messages(second)).toHaveCount(30);
    await expect(messages(second).first()).toHaveText('bot m1');
    await expect(second.getByText('Start of the conversation')).toBeVisible();

    await first.getByRole('textbox', { name: 'message' }).fill('hello from tab 1');
    await first.getByRole('button', { name: 'Send' }).click();
    await expect(messages(second).last()).toHaveText('ada hello from tab 1');
    await expect(messages(first).last()).toHaveText('ada hello from tab 1');

    await second.getByRole('button', { name: 'Sign out' }).click();
    for (const page of [first, second]) await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  });
});
