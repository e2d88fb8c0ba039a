import type { Browser, BrowserContext, Page } from '@playwright/test';

/** What each consumer app puts on `window` (test/e2e/bundlers/apps): the package's page API as bundled. */
interface ConsumerWindow {
  sharedSession: {
    SessionClient: new (options: { serverUrl: string; workerUrl?: string }) => {
      readonly connectionStatus: string;
      readonly hostKind: string;
      startSession(token: string): Promise<void>;
      updateSessionToken(token: string): Promise<void>;
      onConnectionStatusChange(listener: (status: string) => void): () => void;
      close(): void;
    };
    HostUnavailableError: new () => Error;
    SessionError: new () => Error;
    NoActiveSessionError: (new () => Error) & { code: string };
  };
  client: InstanceType<ConsumerWindow['sharedSession']['SessionClient']>;
}

/** Opens the app at `url` in `page` and waits until it put the package on `window`. */
async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => 'sharedSession' in window);
}

/**
 * Opens `count` tabs of the app at `url` in `context`, one after the other; in each, once the app put
 * the package on `window`, creates a `SessionClient` for `serverUrl` (with `workerUrl` when given,
 * resolved against the page) and starts a session with `token`, waiting for `OPEN`.
 *
 * @returns each tab's startSession → OPEN time (ms) and host kind
 */
export async function startInTabs(
  context: BrowserContext,
  url: string,
  options: { serverUrl: string; token: string; workerUrl: string | undefined; count: number },
): Promise<{ openMs: number[]; hostKinds: string[] }> {
  const openMs: number[] = [];
  const hostKinds: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const page = await context.newPage();
    await openApp(page, url);
    const opened = await page.evaluate(
      async ({ serverUrl, token, workerUrl }) => {
        const { SessionClient } = (window as unknown as ConsumerWindow).sharedSession;
        const started = performance.now();
        const client =
          workerUrl === undefined
            ? new SessionClient({ serverUrl })
            : new SessionClient({ serverUrl, workerUrl: new URL(workerUrl, location.href).href });
        (window as unknown as ConsumerWindow).client = client;
        await client.startSession(token);
        if (client.connectionStatus !== 'OPEN') {
          await new Promise<void>((resolve) => {
            const off = client.onConnectionStatusChange((status) => {
              if (status !== 'OPEN') return;
              off();
              resolve();
            });
          });
        }
        return { ms: performance.now() - started, hostKind: client.hostKind };
      },
      { serverUrl: options.serverUrl, token: options.token, workerUrl: options.workerUrl },
    );
    openMs.push(opened.ms);
    hostKinds.push(opened.hostKind);
  }
  return { openMs, hostKinds };
}

/** What a tab's `startSession` rejected with. */
export interface StartFailure {
  name: string;
  code: string | undefined;
  message: string;
  isHostUnavailableError: boolean;
}

/**
 * In a tab of its own browser context (closed after), starts a session without `workerUrl` and
 * returns what `startSession` rejected with (`undefined` if it started).
 */
export async function startWithoutWorkerUrl(
  browser: Browser,
  url: string,
  serverUrl: string,
  token: string,
): Promise<StartFailure | undefined> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await openApp(page, url);
    return await page.evaluate(
      async ({ serverUrl, token }) => {
        const { SessionClient, HostUnavailableError } = (window as unknown as ConsumerWindow).sharedSession;
        const client = new SessionClient({ serverUrl });
        try {
          await client.startSession(token);
          return undefined;
        } catch (error) {
          const e = error as Error & { code?: string };
          return {
            name: e.name,
            code: e.code,
            message: e.message,
            isHostUnavailableError: e instanceof HostUnavailableError,
          };
        } finally {
          client.close();
        }
      },
      { serverUrl, token },
    );
  } finally {
    await context.close();
  }
}

/**
 * The paths of the SharedWorkers the browser runs for `origin` (Playwright does not see
 * SharedWorkers; a browser CDP session does).
 */
export async function sharedWorkerPaths(browser: Browser, origin: string): Promise<string[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { type: string; url: string }[] };
    return targetInfos
      .filter((target) => target.type === 'shared_worker' && new URL(target.url).origin === origin)
      .map((target) => {
        // Turbopack's worker URL carries its chunk list as a long query: shorten it for the table.
        const { pathname, search } = new URL(target.url);
        return search.length > 40 ? `${pathname}?…` : pathname + search;
      });
  } finally {
    await cdp.detach();
  }
}

/**
 * In `page` (opened at `url`), calls `updateSessionToken` while no session runs, so the host throws
 * NoActiveSessionError across comlink, and describes what the page caught.
 */
export async function callWithoutSession(page: Page, url: string, serverUrl: string) {
  await openApp(page, url);
  return page.evaluate(async (serverUrl) => {
    const { SessionClient, NoActiveSessionError, SessionError } = (window as unknown as ConsumerWindow).sharedSession;
    const client = new SessionClient({ serverUrl });
    try {
      await client.updateSessionToken('a.b.c');
      return undefined;
    } catch (error) {
      const e = error as Error & { code?: string };
      return {
        name: e.name,
        code: e.code,
        isNoActiveSessionError: e instanceof NoActiveSessionError,
        isSessionError: e instanceof SessionError,
        localName: new NoActiveSessionError().name,
        staticCode: NoActiveSessionError.code,
        hostKind: client.hostKind,
      };
    } finally {
      client.close();
    }
  }, serverUrl);
}
