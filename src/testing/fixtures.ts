import { test as base } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { createSessionServer, type SessionServer, type SessionServerOptions } from '../server/index.js';
import { createTokenMinter, type MintTokenOptions } from './mint-token.js';
import { openTabs } from './open-tabs.js';
import { createTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** The reference server a test gets, behind a proxy the test can cut. */
export interface SessionServerFixture {
  /** The server itself (`stats()`, `publish()`, `close()`, …). */
  readonly server: SessionServer;
  /** URL the app should use: through the proxy, so that {@link cut} works. */
  readonly url: string;
  /** URL of the server without the proxy. */
  readonly directUrl: string;
  /** The fresh HS256 secret of this test. */
  readonly secret: string;
  /** Signs a token the server accepts. */
  mintToken(options: MintTokenOptions): Promise<string>;
  /** Open authenticated sockets of a user at the server (1 per browser context when all is well). */
  socketsForUser(sub: string): number;
  /**
   * Expires sessions now, as their token's `exp` would: the server closes every socket of `sub`
   * (or of everyone) with 4002 TOKEN_EXPIRED, and each tab's `onSessionError` gets
   * `'TOKEN_EXPIRED'`, without waiting out a token's lifetime.
   *
   * @param sub - only this user's sessions
   * @returns the number of sockets closed (1 per browser context when all is well)
   * @example
   * ```ts
   * expect(sessionServer.expireSessionNow('alice')).toBe(1);
   * for (const tab of tabs) await expect(tab.getByTestId('error')).toHaveText('TOKEN_EXPIRED');
   * ```
   */
  expireSessionNow(sub?: string): number;
  /** Takes the network away from every browser (cuts live sockets, refuses new ones). */
  cut(): number;
  /** Gives the network back; hosts reconnect and resume. */
  restore(): void;
  /** The proxy, for finer control. */
  readonly proxy: TcpProxy;
}

/** Options of the fixtures, set with `test.use({ sessionServerOptions: { … } })`. */
export interface SessionFixtureOptions {
  /** Merged into `createSessionServer` options (`port`, `host` and `auth.secret` are the fixture's). */
  sessionServerOptions: Omit<SessionServerOptions, 'auth' | 'port' | 'host'> & {
    auth?: Omit<SessionServerOptions['auth'], 'secret'>;
  };
}

/**
 * Playwright `test` with shared-session fixtures: `sessionServer` starts the reference server
 * in-process on a free port with a fresh secret (and a TCP proxy in front of it) for each test,
 * and `openTabs(n, url)` opens tabs in the test's context. Import from `shared-session/testing`.
 *
 * @example
 * ```ts
 * import { test, expect, assertSameOrderedChanges } from 'shared-session/testing';
 *
 * test('two tabs share one socket', async ({ sessionServer, openTabs }) => {
 *   const token = await sessionServer.mintToken({ sub: 'alice' });
 *   const tabs = await openTabs(2, `/?server=${sessionServer.url}&token=${token}`);
 *   await expect.poll(() => sessionServer.socketsForUser('alice')).toBe(1);
 * });
 * ```
 */
export const test = base.extend<
  SessionFixtureOptions & {
    sessionServer: SessionServerFixture;
    openTabs: (count: number, url: string) => ReturnType<typeof openTabs>;
  }
>({
  sessionServerOptions: [{}, { option: true }],
  sessionServer: async ({ sessionServerOptions }, use) => {
    const secret = randomBytes(32).toString('hex');
    const server = await createSessionServer({
      logger: false,
      ...sessionServerOptions,
      port: 0,
      host: '127.0.0.1',
      auth: { ...sessionServerOptions.auth, secret },
    });
    const proxy = await createTcpProxy({ port: server.port });
    const mintToken = createTokenMinter(secret);
    try {
      await use({
        server,
        url: proxy.url,
        directUrl: server.url,
        secret,
        mintToken: (options) =>
          mintToken({
            ...(sessionServerOptions.auth?.rolesClaim && { rolesClaim: sessionServerOptions.auth.rolesClaim }),
            ...options,
          }),
        socketsForUser: (sub) => server.stats().socketsByUser[sub] ?? 0,
        expireSessionNow: (sub) => server.expireSessions(sub),
        cut: () => proxy.cut(),
        restore: () => proxy.restore(),
        proxy,
      });
    } finally {
      await proxy.close();
      await server.close();
    }
  },
  openTabs: async ({ context }, use) => {
    await use((count, url) => openTabs(context, count, url));
  },
});

export { expect } from '@playwright/test';
