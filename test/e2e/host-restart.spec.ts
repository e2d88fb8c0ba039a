import type { BrowserContext, BrowserType, LaunchOptions, Page } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertSameOrderedChanges, expect, getSession, openSession, test } from './fixtures.ts';
import {
  publishOnServer,
  received,
  startPublish,
  storedCursor,
  subscribe,
  waitForChanges,
  waitForHost,
} from './topic-helpers.ts';

/**
 * A browser profile on disk that outlives its browser: closing the context ends the browser process,
 * and with it the SharedWorker (which `extendedLifetime` keeps alive across reloads). Whatever the
 * next browser's host knows of topics and the outbox can then only come from IndexedDB.
 */
class Profile {
  readonly #browserType: BrowserType;
  readonly #launchOptions: LaunchOptions;
  readonly #appUrl: string;
  #dir: string | undefined;
  #context: BrowserContext | undefined;

  constructor(browserType: BrowserType, launchOptions: LaunchOptions, appUrl: string) {
    this.#browserType = browserType;
    this.#launchOptions = launchOptions;
    this.#appUrl = appUrl;
  }

  /** Starts the browser on the profile (a new one the first time) and opens `n` tabs of the test app. */
  async start(n: number): Promise<Page[]> {
    this.#dir ??= await mkdtemp(path.join(tmpdir(), 'shared-session-e2e-profile-'));
    this.#context = await this.#browserType.launchPersistentContext(this.#dir, {
      ...this.#launchOptions,
      headless: true,
    });
    const pages: Page[] = [];
    for (let i = 0; i < n; i++) {
      const page = await this.#context.newPage();
      await page.goto(this.#appUrl);
      await page.waitForFunction(() => window.harness !== undefined);
      pages.push(page);
    }
    return pages;
  }

  /** Quits the browser. */
  async stop(): Promise<void> {
    await this.#context?.close();
    this.#context = undefined;
  }

  /** Quits the browser and deletes the profile. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

test.describe('a host restart (the browser quits and starts again) (spec §5)', () => {
  let profile: Profile;
  test.beforeEach(({ playwright, launchOptions, appUrl }) => {
    profile = new Profile(playwright.chromium, launchOptions, appUrl);
  });
  test.afterEach(() => profile.dispose());

  test('the new host resumes topics from the cursors in IndexedDB: the server sends only newer changes', async ({
    server,
    mintToken,
  }) => {
    const token = await mintToken({ sub: 'alice' });
    const before = await profile.start(2);
    for (const tab of before) {
      await openSession(tab, server.url, token);
      await subscribe(tab, 'feed', 'feed');
    }
    await publishOnServer(server, 'feed', 10);
    for (const tab of before) await waitForChanges(tab, 'feed', 10);
    await expect.poll(() => storedCursor(before[0]!, 'alice', 'feed'), 'cursor written to IndexedDB').toBe(10);
    const sessionId = (await getSession(before[0]!))?.id;
    await profile.stop();
    await expect.poll(() => server.stats().sockets).toBe(0);

    await publishOnServer(server, 'feed', 5, (n) => ({ n: 10 + n }));
    const sentBefore = server.stats().changesSent;
    const after = await profile.start(2);
    for (const tab of after) await openSession(tab, server.url, token);
    expect((await getSession(after[0]!))?.id, 'the stored session resumes').toBe(sessionId);
    for (const tab of after) await subscribe(tab, 'feed', 'feed');
    const logs = await Promise.all(after.map((tab) => waitForChanges(tab, 'feed', 15)));

    const sent = server.stats().changesSent - sentBefore;
    console.log(`host restart: ${sent} change frames sent to the new host (10 cached in IndexedDB, 5 new)`);
    expect(sent, 'only the changes after the stored cursor').toBe(5);
    assertSameOrderedChanges(
      logs.map((log) => log.changes),
      15,
    );
  });

  test('a publish waiting in the outbox when the browser quits is stored exactly once by the next host', async ({
    server,
    serverProxy,
    mintToken,
  }) => {
    const token = await mintToken({ sub: 'alice' });
    const [publisher] = await profile.start(1);
    await openSession(publisher!, serverProxy.url, token);
    serverProxy.cut();
    await expect.poll(() => server.stats().sockets).toBe(0);
    await startPublish(publisher!, 'chat', { text: 'before the browser quit' });
    await waitForHost(publisher!, (s) => s.outbox === 1, 'the publish is in the outbox');
    await profile.stop();

    serverProxy.restore();
    const [tab] = await profile.start(1);
    await openSession(tab!, serverProxy.url, token);
    await waitForHost(tab!, (s) => s.outbox === 0, 'the outbox drained');
    expect(server.stats().changesStored, 'stored once').toBe(1);

    await subscribe(tab!, 'chat', 'chat');
    await server.publish('chat', { marker: true });
    await waitForChanges(tab!, 'chat', 2);
    expect((await received(tab!, 'chat')).changes.map((c) => c.data)).toEqual([
      { text: 'before the browser quit' },
      { marker: true },
    ]);
  });
});
