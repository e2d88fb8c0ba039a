// What every browser bench needs: the bench app built as a consumer builds it (Vite, minified by
// default), served twice — cross-origin isolated and as a default page — the reference server, a
// token minter, headless Chromium, and small statistics helpers.
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { createSessionServer, type SessionServer } from 'shared-session/server';
import { createTokenMinter } from 'shared-session/testing';
import { serveStatic } from '../test/e2e/static-server.ts';
import type { BenchPage } from './app/main.ts';

/** The two kinds of page every browser figure is measured in. */
export type PageKind = 'isolated' | 'default';
export const PAGE_KINDS: readonly PageKind[] = ['isolated', 'default'];

/** A running bench environment. */
export interface BenchEnv {
  browser: Browser;
  server: SessionServer;
  mintToken: ReturnType<typeof createTokenMinter>;
  /** The bench app's URL per page kind. */
  appUrl: Record<PageKind, string>;
  /** Whether the app (and the worker bundle Vite re-bundled from dist/) was minified. */
  minified: boolean;
  close(): Promise<void>;
}

declare global {
  /** The bench app's API, for `page.evaluate`. */
  const bench: BenchPage;
}

/** Chromium: `CHROMIUM_PATH`, else Playwright's own build if installed, else Debian's. */
function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    if (existsSync(chromium.executablePath())) return undefined;
  } catch {
    // no bundled browser for this platform
  }
  return '/usr/bin/chromium';
}

/**
 * Builds the bench app against dist/ (run `npm run build` first), serves it, and starts the
 * server and the browser.
 *
 * @param options - `minify: false` keeps function names readable (profiles)
 */
export async function startBenchEnv(options: { minify?: boolean } = {}): Promise<BenchEnv> {
  const minified = options.minify ?? true;
  await build({
    configFile: fileURLToPath(new URL('./app/vite.config.ts', import.meta.url)),
    build: { minify: minified },
  });
  const root = fileURLToPath(new URL('../.tmp/bench-app', import.meta.url));
  // Cross-origin isolation gives performance.now() microsecond resolution (100 µs otherwise).
  const isolated = await serveStatic(root, {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  });
  const plain = await serveStatic(root);
  const secret = randomBytes(32).toString('hex');
  // The baselines open one socket per tab for one user (up to 20 tabs): above the default per-user cap.
  const server = await createSessionServer({
    port: 0,
    auth: { secret },
    logger: false,
    rateLimit: false,
    limits: { maxSocketsPerUser: 64 },
  });
  const executablePath = chromiumPath();
  const browser = await chromium.launch({
    ...(executablePath && { executablePath }),
    args: ['--disable-gpu', '--disable-quic'],
  });
  return {
    browser,
    server,
    mintToken: createTokenMinter(secret),
    appUrl: { isolated: isolated.url, default: plain.url },
    minified,
    async close() {
      await browser.close();
      await server.close();
      await isolated.close();
      await plain.close();
    },
  };
}

/** Which SessionClient a bench tab creates as it loads: none (a baseline tab), or one for this host mode. */
export type TabClient = 'none' | 'auto' | 'leader';

/** The bench app's URL for `kind` pages whose tabs create `client` as they load. */
export function tabUrl(env: BenchEnv, kind: PageKind, client: TabClient): string {
  if (client === 'none') return env.appUrl[kind];
  const query = new URLSearchParams({ server: env.server.url });
  if (client === 'leader') query.set('host', 'leader');
  return `${env.appUrl[kind]}?${query}`;
}

/** Opens `count` tabs of the bench app in a new context (one browser profile: one host). */
export async function openTabs(
  env: BenchEnv,
  kind: PageKind,
  count: number,
  client: TabClient = 'auto',
): Promise<{ context: BrowserContext; pages: Page[] }> {
  const context = await env.browser.newContext();
  await context.exposeFunction('mintToken', () => env.mintToken({ sub: 'bench', roles: ['member'], expiresIn: 3600 }));
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await openTab(context, tabUrl(env, kind, client)));
  return { context, pages };
}

/** Opens one more tab of the bench app in `context`. */
export async function openTab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.title === 'bench ready');
  return page;
}

/** The `p`th percentile (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Epoch ms with sub-millisecond resolution, on the same scale as the bench page's. */
export const hiResNow = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `condition` every 10 ms, running `refresh` before each check (the bench's own waits,
 * never a test assertion).
 */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 15_000,
  refresh?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await refresh?.();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
