/**
 * The W3C WebDriver adapter, over plain `fetch`: WebKitGTK's MiniBrowser (Safari's engine) through
 * `WebKitWebDriver`, under an Xvfb the adapter starts and stops (MiniBrowser's `--headless` does not
 * work on this kind of machine). A WebKitWebDriver serves one session, and one session is one
 * browser profile, so each context gets its own driver process and MiniBrowser.
 */
import {
  removeFrom,
  TaskQueue,
  type EngineContext,
  type EngineDriver,
  type EngineTab,
  type PageFunction,
} from './driver.ts';
import { startWebKitWebDriver, startXvfb, type Child } from './processes.ts';

/** Where Debian's webkit2gtk-driver and libwebkit2gtk put them. */
export const WEBKIT_DEFAULTS = {
  driver: '/usr/bin/WebKitWebDriver',
  miniBrowser: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
} as const;

/** Deadline of a script or a page load, as the session's `timeouts`. */
const COMMAND_TIMEOUT_MS = 30_000;

/** A WebDriver error answer (`{ value: { error, message } }`). */
class WebDriverError extends Error {
  override name = 'WebDriverError';
  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
  ) {
    super(`${command}: ${error}: ${message}`);
  }
}

/** One WebDriver session: commands, serialised, with the window each one applies to. */
class Session {
  readonly #base: string;
  readonly #queue = new TaskQueue();
  #currentWindow: string | undefined;

  constructor(driverUrl: string, sessionId: string) {
    this.#base = `${driverUrl}/session/${sessionId}`;
  }

  static async create(driverUrl: string, miniBrowser: string): Promise<{ session: Session; version: string }> {
    const value = await command<{ sessionId: string; capabilities: { browserVersion?: string } }>(
      'POST',
      `${driverUrl}/session`,
      {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: miniBrowser, args: ['--automation'] },
            timeouts: { script: COMMAND_TIMEOUT_MS, pageLoad: COMMAND_TIMEOUT_MS },
          },
        },
      },
    );
    return {
      session: new Session(driverUrl, value.sessionId),
      version: `MiniBrowser/${value.capabilities.browserVersion ?? 'unknown'}`,
    };
  }

  /** Runs `path` of this session in `window` (switching to it first), after every earlier command. */
  inWindow<T>(window: string | undefined, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    return this.#queue.run(async () => {
      if (window !== undefined && window !== this.#currentWindow) {
        await command('POST', `${this.#base}/window`, { handle: window });
        this.#currentWindow = window;
      }
      return command<T>(method, `${this.#base}${path}`, body);
    });
  }

  /** Forgets the current window after it closed. */
  forgetWindow(window: string): void {
    if (this.#currentWindow === window) this.#currentWindow = undefined;
  }

  end(): Promise<unknown> {
    return this.#queue.run(() => command('DELETE', this.#base));
  }
}

async function command<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const payload = (await response.json()) as { value: T | { error: string; message: string } };
  if (!response.ok) {
    const { error, message } = payload.value as { error: string; message: string };
    throw new WebDriverError(`${method} ${new URL(url).pathname}`, error, message);
  }
  return payload.value as T;
}

/** What the wrapper script of {@link WebDriverTab.evaluate} hands back. */
type ScriptOutcome = { ok: true; undef: boolean; value: unknown } | { ok: false; error: string };

class WebDriverTab implements EngineTab {
  readonly #session: Session;
  readonly #handle: string;
  readonly #onClose: () => Promise<void>;
  closed = false;

  constructor(session: Session, handle: string, onClose: () => Promise<void>) {
    this.#session = session;
    this.#handle = handle;
    this.#onClose = onClose;
  }

  async evaluate<Result, Arg>(fn: PageFunction<Arg, Result>, arg?: Arg): Promise<Result> {
    // execute/async: the last argument is the callback. Errors come back as values, so that a rejected
    // promise in the page reads as the page's error, not as a WebDriver "javascript error".
    const script =
      'const done = arguments[arguments.length - 1];' +
      `Promise.resolve(arguments[0]).then(${fn.toString()}).then(` +
      '(value) => done({ ok: true, undef: value === undefined, value: value === undefined ? null : value }),' +
      '(error) => done({ ok: false, error: String((error && error.stack) || error) }));';
    const outcome = await this.#session.inWindow<ScriptOutcome>(this.#handle, 'POST', '/execute/async', {
      script,
      args: [arg ?? null],
    });
    if (!outcome.ok) throw new Error(`evaluate failed in the page: ${outcome.error}`);
    return (outcome.undef ? undefined : outcome.value) as Result;
  }

  async goto(url: string): Promise<void> {
    await this.#session.inWindow(this.#handle, 'POST', '/url', { url });
  }

  async reload(): Promise<void> {
    await this.#session.inWindow(this.#handle, 'POST', '/refresh', {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.#onClose();
  }

  get handle(): string {
    return this.#handle;
  }
}

/** A profile: its own WebKitWebDriver, session and MiniBrowser. */
async function openContext(driverPath: string, miniBrowser: string, display: string) {
  const driver = await startWebKitWebDriver(driverPath, display);
  let created: Awaited<ReturnType<typeof Session.create>>;
  try {
    created = await Session.create(driver.url, miniBrowser);
  } catch (error) {
    await driver.process.stop();
    throw error;
  }
  const { session } = created;
  const tabs: EngineTab[] = [];
  // The session starts with one blank window; it is the next tab's, and closing the last tab leaves
  // such a blank window behind (closing a session's last window would end the session).
  let spare: string | undefined = await session.inWindow<string>(undefined, 'GET', '/window');

  const closeTab = async (tab: WebDriverTab) => {
    removeFrom(tabs, tab);
    if (tabs.length === 0) {
      spare = (await session.inWindow<{ handle: string }>(undefined, 'POST', '/window/new', { type: 'tab' })).handle;
    }
    await session.inWindow(tab.handle, 'DELETE', '/window');
    session.forgetWindow(tab.handle);
  };

  const context: EngineContext = {
    tabs,
    async openTab(url) {
      const handle =
        spare ?? (await session.inWindow<{ handle: string }>(undefined, 'POST', '/window/new', { type: 'tab' })).handle;
      spare = undefined;
      const tab: WebDriverTab = new WebDriverTab(session, handle, () => closeTab(tab));
      tabs.push(tab);
      await tab.goto(url);
      return tab;
    },
    async close() {
      tabs.length = 0;
      await session.end().catch(() => undefined);
      await driver.process.stop();
    },
  };
  return { context, version: created.version, driver: driver.process };
}

/**
 * Starts an Xvfb and returns WebKitGTK's MiniBrowser as an {@link EngineDriver}.
 *
 * @param paths - `WebKitWebDriver` and `MiniBrowser` binaries
 */
export async function launchWebKitGtk(
  paths: { driver: string; miniBrowser: string } = WEBKIT_DEFAULTS,
): Promise<EngineDriver> {
  const xvfb = await startXvfb();
  const contexts: EngineContext[] = [];
  const children: Child[] = [xvfb.process];
  // The version comes with the first session; open one now so that a broken install fails here.
  let first: Awaited<ReturnType<typeof openContext>>;
  try {
    first = await openContext(paths.driver, paths.miniBrowser, xvfb.display);
  } catch (error) {
    await xvfb.process.stop();
    throw error;
  }
  let unused: EngineContext | undefined = first.context;
  const track = (context: EngineContext): EngineContext => {
    contexts.push(context);
    return {
      get tabs() {
        return context.tabs;
      },
      openTab: (url) => context.openTab(url),
      close: async () => {
        removeFrom(contexts, context);
        await context.close();
      },
    };
  };
  return {
    engine: 'webkit',
    kind: 'webdriver',
    version: first.version,
    async newContext() {
      if (unused) {
        const context = unused;
        unused = undefined;
        return track(context);
      }
      return track((await openContext(paths.driver, paths.miniBrowser, xvfb.display)).context);
    },
    async close() {
      if (unused) await unused.close();
      for (const context of [...contexts]) await context.close();
      for (const child of children) await child.stop();
    },
  };
}
