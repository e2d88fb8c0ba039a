/**
 * The engine-neutral browser driver the cross-engine scenarios are written against. Three adapters
 * implement it: Playwright (Chromium, and Playwright's own Firefox and WebKit where installed),
 * puppeteer-core over WebDriver BiDi (Firefox ESR) and W3C WebDriver over `fetch` (WebKitGTK's
 * MiniBrowser). Scenario code sees only these three interfaces.
 */

/** The engines the suite proves the library in (spec §13). */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

/** Which adapter drives an engine. */
export type DriverKind = 'playwright' | 'bidi' | 'webdriver';

/**
 * A function run in a tab. Like Playwright's `page.evaluate`, it travels as source text: it must not
 * close over anything and gets its one argument (JSON-serialisable) as a parameter.
 */
export type PageFunction<Arg, Result> = (arg: Arg) => Result | Promise<Result>;

/** One tab (a top-level page). */
export interface EngineTab {
  /** Runs `fn(arg)` in the page and resolves with its (awaited, JSON-serialisable) result. */
  evaluate<Result, Arg = undefined>(fn: PageFunction<Arg, Result>, arg?: Arg): Promise<Result>;
  /** Loads `url` in this tab and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Reloads the tab and waits for the load event. */
  reload(): Promise<void>;
  /** Closes the tab (the browser runs its unload steps; locks it held are released). */
  close(): Promise<void>;
  /** Whether {@link close} ran. */
  readonly closed: boolean;
}

/**
 * A browser profile: its tabs share cookies, IndexedDB and one SharedWorker per origin; other
 * contexts share nothing with it.
 */
export interface EngineContext {
  /** Opens a new tab on `url` and waits for its load event. */
  openTab(url: string): Promise<EngineTab>;
  /** The tabs opened and not closed yet, in opening order. */
  readonly tabs: readonly EngineTab[];
  /** Closes every tab and the profile. */
  close(): Promise<void>;
}

/** A running browser. */
export interface EngineDriver {
  readonly engine: EngineName;
  readonly kind: DriverKind;
  /** Product and version as the browser reports them, e.g. `firefox/153.8.0`. */
  readonly version: string;
  /** A fresh, isolated profile. */
  newContext(): Promise<EngineContext>;
  /** Closes every context and ends the browser (and whatever the adapter started for it). */
  close(): Promise<void>;
}

/**
 * Runs `task` after the previous task of the same queue settled. WebDriver has one "current window"
 * per session and BiDi-less drivers interleave badly, so adapters that switch tabs serialise on it.
 */
export class TaskQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** Keeps a list of open items, for contexts' `tabs` and drivers' contexts. */
export function removeFrom<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

/** What the Playwright and puppeteer `Page` classes have in common, as far as the driver needs. */
export interface PageLike {
  evaluate(fn: (arg: unknown) => unknown, arg: unknown): Promise<unknown>;
  goto(url: string, options: { waitUntil: 'load' }): Promise<unknown>;
  reload(options: { waitUntil: 'load' }): Promise<unknown>;
  close(options: { runBeforeUnload: false }): Promise<void>;
}

/** An {@link EngineTab} over a Playwright or puppeteer page. */
class PageTab implements EngineTab {
  readonly #page: PageLike;
  readonly #onClose: () => void;
  closed = false;

  constructor(page: PageLike, onClose: () => void) {
    this.#page = page;
    this.#onClose = onClose;
  }

  evaluate<Result, Arg>(fn: PageFunction<Arg, Result>, arg?: Arg): Promise<Result> {
    // Both libraries serialise `fn` as source and `arg` as JSON; their overloads are stricter than that.
    return this.#page.evaluate(fn as (arg: unknown) => unknown, arg) as Promise<Result>;
  }

  async goto(url: string): Promise<void> {
    await this.#page.goto(url, { waitUntil: 'load' });
  }

  async reload(): Promise<void> {
    await this.#page.reload({ waitUntil: 'load' });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.#onClose();
    await this.#page.close({ runBeforeUnload: false });
  }
}

/**
 * An {@link EngineContext} over a Playwright `BrowserContext` or a puppeteer `BrowserContext`
 * (a BiDi user context): both open pages with `newPage()` and end with `close()`.
 *
 * @param context - the library's context
 */
export function pageContext(context: { newPage(): Promise<PageLike>; close(): Promise<void> }): EngineContext {
  const tabs: EngineTab[] = [];
  return {
    tabs,
    async openTab(url) {
      const tab: EngineTab = new PageTab(await context.newPage(), () => removeFrom(tabs, tab));
      tabs.push(tab);
      await tab.goto(url);
      return tab;
    },
    close: () => context.close(),
  };
}
