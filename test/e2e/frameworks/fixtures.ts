import type { ConsoleMessage, Page } from '@playwright/test';
import { expect, test as base } from '../fixtures.ts';
import { serveStatic } from '../static-server.ts';
import { buildFrameworkApps } from './build-apps.ts';

export { expect };

/** The frameworks with an app under `apps/`. */
export const FRAMEWORKS = ['react', 'vue', 'svelte'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

type WorkerFixtures = {
  /** The three apps, built once per worker and served on a free port: `${frameworkAppsUrl}react/`. */
  frameworkAppsUrl: string;
};

type TestFixtures = {
  /**
   * Console errors and warnings and page errors of every tab `openApp` opened; the test fails
   * (after its body) when there is any.
   */
  consoleProblems: string[];
  /** Opens a tab of `framework`'s app (`file`, default `index.html`) against the test's server. */
  openApp: (framework: Framework, file?: string) => Promise<Page>;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  frameworkAppsUrl: [
    async ({}, use) => {
      const apps = await buildFrameworkApps();
      console.log(`e2e frameworks: React, Vue and Svelte apps built (production) in ${Math.round(apps.buildMs)} ms`);
      const server = await serveStatic(apps.outDir);
      await use(server.url);
      await server.close();
    },
    { scope: 'worker', timeout: 120_000 },
  ],

  consoleProblems: async ({}, use) => {
    const problems: string[] = [];
    await use(problems);
    expect(problems, 'console errors or warnings in the app tabs').toEqual([]);
  },

  openApp: async ({ context, server, frameworkAppsUrl, consoleProblems, testLogs }, use) => {
    let opened = 0;
    await use(async (framework, file = 'index.html') => {
      const tab = `${framework}${++opened}`;
      const page = await context.newPage();
      page.on('console', (message: ConsoleMessage) => {
        const line = `[${tab} ${message.type()}] ${message.text()}`;
        testLogs.push(line);
        if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(line);
      });
      page.on('pageerror', (error) => consoleProblems.push(`[${tab} pageerror] ${error.stack ?? error.message}`));
      const url = new URL(`${framework}/${file}`, frameworkAppsUrl);
      url.searchParams.set('server', server.url);
      await page.goto(url.href);
      await expect(page.getByTestId('status')).toHaveText('UNINITIALIZED');
      return page;
    });
  },
});

/** `client.startSession(token)` in the tab. */
export function startSession(page: Page, token: string): Promise<void> {
  return page.evaluate(async (t) => void (await window.client.startSession(t)), token);
}

/** `client.endSession()` in the tab. */
export function endSession(page: Page): Promise<void> {
  return page.evaluate(async () => {
    await window.client.endSession();
  });
}

/** Publishes `{ text }` messages to `topic` from the tab, one after the other. */
export function publishTexts(page: Page, topic: string, texts: string[]): Promise<void> {
  return page.evaluate(
    async ([t, list]) => {
      for (const text of list) await window.client.publish(t, { text });
    },
    [topic, texts] as const,
  );
}

/** `text` of messages `from`…`to`, as the apps render them. */
export function texts(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
}

declare global {
  interface Window {
    /** Renders of the React app's `Status` component (a `useConnectionStatus` reader). */
    statusRenders?: number;
  }
}
