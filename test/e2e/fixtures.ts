import { test as base, expect, type Page } from '@playwright/test';
import { decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  ClientSetup,
  ConnectionStatus,
  HostStats,
  PageEvents,
  RefreshPlan,
  RefreshSetup,
  SessionInfo,
  StartResult,
} from './app/harness-types.ts';
import { APP_URL_ENV, DIST_DIR } from './paths.ts';
import type * as ServerModule from '../../src/server/index.ts';
import type * as TestingKit from '../../src/testing/index.ts';

export { expect };
export type { ClientSetup, ConnectionStatus, HostStats, PageEvents, RefreshSetup, SessionInfo, StartResult };

/** `stats()` of the reference server. */
export type ServerStats = ServerModule.SessionServerStats;
/** Options of `createSessionServer`. */
export type SessionServerOptions = ServerModule.SessionServerOptions;
/** A cuttable TCP proxy of the testing kit. */
export type TcpProxy = TestingKit.TcpProxy;

/** The handle `createSessionServer` resolves to, plus the secret the fixture chose. */
export type SessionServer = ServerModule.SessionServer & { secret: string };

/** Loads a module of the built package snapshot (`.tmp/e2e-dist`), typed as its source. */
async function loadBuilt<T>(entry: string): Promise<T> {
  return (await import(pathToFileURL(path.join(DIST_DIR, entry)).href)) as T;
}

/**
 * The built testing kit (`shared-session/testing`): the suite uses its TCP proxy, token minter,
 * ordered-changes assertion and host tools, so the kit is tested by being used.
 */
export const {
  assertSameOrderedChanges,
  createTcpProxy,
  createTokenMinter,
  freezeTab,
  hostEvaluate,
  killHost,
  resumeTab,
  TestingKitError,
  withoutSharedWorker,
} = await loadBuilt<typeof TestingKit>('testing/index.js');

/** Claims and key of a test token. */
export interface MintOptions {
  sub: string;
  /** Default `['user']`. */
  roles?: string[] | undefined;
  /** Seconds from now until `exp` (may be negative); `null` for a token without `exp`. Default 3600. */
  expiresIn?: number | null | undefined;
  /** Default: the test server's secret. */
  secret?: string;
  /** More claims. */
  extra?: Record<string, unknown>;
}

/** Signs an HS256 test token with the kit's `createTokenMinter`. */
export function signToken(defaultSecret: string, options: MintOptions): Promise<string> {
  const { sub, roles = ['user'], expiresIn = 3600, secret = defaultSecret, extra = {} } = options;
  return createTokenMinter(secret)({ sub, roles, expiresIn, claims: extra });
}

/** `exp` of a token in epoch ms (`null` when it has none). */
export function expOf(token: string): number | null {
  const { exp } = decodeJwt(token);
  return typeof exp === 'number' ? exp * 1000 : null;
}

/** Loads `createSessionServer` from the built package. */
export async function loadCreateSessionServer(): Promise<typeof ServerModule.createSessionServer> {
  return (await loadBuilt<typeof ServerModule>('server/index.js')).createSessionServer;
}

/** The built server module (stores, `createSessionServer`, …). */
export function loadServerModule(): Promise<typeof ServerModule> {
  return loadBuilt<typeof ServerModule>('server/index.js');
}

/** Settles with `promise`, or rejects after `ms`: teardown must never hang the suite. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Server log lines go to the test's logs (printed when it fails). */
function serverLogger(testLogs: string[]): ServerModule.Logger {
  const log =
    (level: string) =>
    (fieldsOrMessage: Readonly<Record<string, unknown>> | string, message?: string): void => {
      const line =
        typeof fieldsOrMessage === 'string' ? fieldsOrMessage : `${message} ${JSON.stringify(fieldsOrMessage)}`;
      testLogs.push(`[server ${level}] ${line}`);
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

/** Starts the built reference server on 127.0.0.1 (a free port unless `options.port`) with `secret`. */
async function startSessionServer(
  logger: ServerModule.Logger,
  secret: string,
  options: Partial<Omit<SessionServerOptions, 'host' | 'auth'>>,
): Promise<SessionServer> {
  const createSessionServer = await loadCreateSessionServer();
  const handle = await createSessionServer({ logger, port: 0, ...options, host: '127.0.0.1', auth: { secret } });
  return Object.assign(handle, { secret });
}

type Fixtures = {
  /** Extra server options for a test: `test.use({ serverOptions: { schema: { versions: [2] } } })`. */
  serverOptions: Partial<Omit<SessionServerOptions, 'port' | 'host' | 'auth'>>;
  /** A fresh reference server on 127.0.0.1 and a free port, with a fresh random secret; closed after the test. */
  server: SessionServer;
  /**
   * Starts one more reference server with the test's logger and `server`'s secret, closed after the
   * test: `startServer({ port: server.port, store: { path } })` restarts the server where it was.
   */
  startServer: (options?: Partial<Omit<SessionServerOptions, 'host' | 'auth'>>) => Promise<SessionServer>;
  /**
   * The testing kit's TCP proxy in front of `server` (Playwright's own `proxy` option is another
   * thing): give tabs `serverProxy.url`, then `cut()` / `restore()` / `drop()`.
   */
  serverProxy: TcpProxy;
  /** Mints a token signed with the test server's secret (or `secret`). */
  mintToken: (options: MintOptions) => Promise<string>;
  /** The test app, built against `dist/` and served by global setup. */
  appUrl: string;
  /** Server log lines, console errors and page errors of every tab: printed when the test fails. */
  testLogs: string[];
  /** Opens one tab of the test app in the test's context and waits until its harness is ready. */
  openTab: () => Promise<Page>;
  /** Opens `n` tabs (one after the other). */
  openTabs: (n: number) => Promise<Page[]>;
};

export const test = base.extend<Fixtures>({
  serverOptions: [{}, { option: true }],

  server: async ({ serverOptions, testLogs }, use) => {
    const server = await startSessionServer(
      serverLogger(testLogs),
      randomBytes(32).toString('base64url'),
      serverOptions,
    );
    await use(server);
    await withTimeout(Promise.resolve(server.close()), 5_000, 'server.close()');
  },

  startServer: async ({ server, testLogs }, use) => {
    const started: SessionServer[] = [];
    await use(async (options = {}) => {
      const next = await startSessionServer(serverLogger(testLogs), server.secret, options);
      started.push(next);
      return next;
    });
    for (const next of started) await withTimeout(Promise.resolve(next.close()), 5_000, 'server.close()');
  },

  serverProxy: async ({ server }, use) => {
    const proxy = await createTcpProxy({ port: server.port });
    await use(proxy);
    await proxy.close();
  },

  mintToken: async ({ server }, use) => {
    await use((options) => signToken(server.secret, options));
  },

  appUrl: async ({}, use) => {
    const url = process.env[APP_URL_ENV];
    if (!url) throw new Error(`${APP_URL_ENV} is not set: run through playwright.config.ts (global setup)`);
    await use(url);
  },

  testLogs: async ({}, use, testInfo) => {
    const logs: string[] = [];
    await use(logs);
    if (testInfo.status !== testInfo.expectedStatus && logs.length > 0) {
      await testInfo.attach('logs', { body: logs.join('\n'), contentType: 'text/plain' });
      console.log(`--- logs of "${testInfo.title}" ---\n${logs.join('\n')}`);
    }
  },

  openTab: async ({ context, server, appUrl, testLogs }, use) => {
    let exposed = false;
    let opened = 0;
    await use(async () => {
      if (!exposed) {
        exposed = true;
        await context.exposeFunction('mintFreshToken', (plan: RefreshPlan) =>
          signToken(server.secret, {
            sub: plan.sub,
            roles: plan.roles,
            expiresIn: plan.expiresIn,
            ...(plan.extra && { extra: plan.extra }),
          }),
        );
      }
      const tab = `tab${++opened}`;
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') testLogs.push(`[${tab} ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (error) => testLogs.push(`[${tab} pageerror] ${error.stack ?? error.message}`));
      await page.goto(appUrl);
      await page.waitForFunction(() => window.harness !== undefined);
      return page;
    });
  },

  openTabs: async ({ openTab }, use) => {
    await use(async (n) => {
      const pages: Page[] = [];
      for (let i = 0; i < n; i++) pages.push(await openTab());
      return pages;
    });
  },
});

// ---- page-side helpers: thin wrappers over window.harness ----

/** Creates `window.client` in the page (no token unless `setup.token`). */
export function createClient(page: Page, setup: ClientSetup): Promise<ConnectionStatus> {
  return page.evaluate((s) => window.harness.createClient(s), setup);
}

/** `client.startSession(token, autoConnect, refreshOptions)` in the page. */
export function startSession(
  page: Page,
  token: string,
  options: { autoConnect?: boolean; refresh?: RefreshSetup | false; waitForOpen?: boolean } = {},
): Promise<StartResult> {
  return page.evaluate(([t, o]) => window.harness.startSession(t, o), [token, options] as const);
}

/** Creates the client for `serverUrl` and starts a session, waiting until it is OPEN. */
export async function openSession(
  page: Page,
  serverUrl: string,
  token: string,
  options: { refresh?: RefreshSetup; schema?: { version: number } } = {},
): Promise<StartResult> {
  await createClient(page, { serverUrl, ...(options.schema && { schema: options.schema }) });
  const result = await startSession(page, token, { refresh: options.refresh ?? false, waitForOpen: true });
  expect(result.error, 'startSession rejected').toBeUndefined();
  expect(result.openMs, 'status did not reach OPEN within 10 s of startSession').toBeDefined();
  return result;
}

export function connectionStatus(page: Page): Promise<ConnectionStatus> {
  return page.evaluate(() => window.client.connectionStatus);
}

export function getSession(page: Page): Promise<SessionInfo | undefined> {
  return page.evaluate(() => window.client.getSession());
}

export function pageEvents(page: Page): Promise<PageEvents> {
  return page.evaluate(() => window.events);
}

/** The host's counters, through the test-only `client.debugHostStats()`. */
export function hostStats(page: Page): Promise<HostStats> {
  return page.evaluate(() => {
    if (typeof window.client.debugHostStats !== 'function') throw new Error('client.debugHostStats() is missing');
    return window.client.debugHostStats();
  });
}

/** Waits until the page's client reports `status`. */
export async function waitForStatus(page: Page, status: ConnectionStatus, timeout = 10_000): Promise<void> {
  await page.waitForFunction((s) => window.client?.connectionStatus === s, status, { timeout });
}

/** Waits until the page recorded a session error of `type`; returns when (epoch ms). */
export async function waitForSessionError(page: Page, type: string, timeout = 10_000): Promise<number> {
  const handle = await page.waitForFunction((ty) => window.events.sessionErrors.find((e) => e.type === ty)?.t, type, {
    timeout,
  });
  return (await handle.jsonValue()) as number;
}

/** Lets time pass where the assertion is that nothing happens (no refresh, no reconnect). */
export function quietPeriod(page: Page, ms: number): Promise<void> {
  return page.waitForTimeout(ms);
}
