/**
 * Fixtures of the cross-engine scenarios: the suite's reference server, proxy and token minting
 * (from ../fixtures.ts) plus, per worker, one browser of the engine the `describe` block chose
 * (`test.use({ engineName })`), and per test a fresh profile in it and a token service for refresh
 * handlers. An engine that is not installed here skips every test with the reason.
 */
import { test as base } from '../fixtures.ts';
import type { EngineContext, EngineDriver, EngineName, EngineTab } from './driver.ts';
import { chooseEngine } from './engines.ts';
import { waitForHarness } from './tab-helpers.ts';
import { startTokenService, type TokenService } from './token-service.ts';

export { expect } from '../fixtures.ts';

/** A launched engine, or why it could not be. */
export type EngineUnderTest = { driver: EngineDriver } | { unavailable: string };

type WorkerFixtures = {
  /** The engine of this worker: set per `describe` with `test.use({ engineName })`. */
  engineName: EngineName;
  /** The browser, launched once per worker. */
  engine: EngineUnderTest;
};

type TestFixtures = {
  /** The running browser of this test's engine (the test is skipped when there is none). */
  driver: EngineDriver;
  /** A fresh profile of that browser, closed after the test. */
  profile: EngineContext;
  /** Signs refresh-handler tokens for the tabs, with the test server's secret. */
  tokenService: TokenService;
  /** The test app's URL with `?mint=` pointing at {@link tokenService}. */
  tabUrl: string;
  /** Opens `n` tabs of the test app in `profile` (one after the other), each with its harness ready. */
  newTabs: (n: number) => Promise<EngineTab[]>;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  engineName: ['chromium', { scope: 'worker', option: true }],

  engine: [
    async ({ engineName }, use) => {
      const choice = chooseEngine(engineName);
      if ('unavailable' in choice) {
        console.log(`engines: [${engineName}] skipped: ${choice.unavailable}`);
        await use(choice);
        return;
      }
      const started = performance.now();
      const driver = await choice.launch();
      console.log(
        `engines: [${engineName}] ${driver.version} via ${driver.kind} (${choice.executable}), ` +
          `started in ${Math.round(performance.now() - started)} ms`,
      );
      try {
        await use({ driver });
      } finally {
        await driver.close();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  driver: async ({ engine }, use, testInfo) => {
    if ('unavailable' in engine) {
      testInfo.skip(true, engine.unavailable);
      return;
    }
    await use(engine.driver);
  },

  profile: async ({ driver }, use) => {
    const profile = await driver.newContext();
    try {
      await use(profile);
    } finally {
      await profile.close();
    }
  },

  tokenService: async ({ mintToken }, use) => {
    const service = await startTokenService((plan) =>
      mintToken({ sub: plan.sub, roles: plan.roles, expiresIn: plan.expiresIn }),
    );
    await use(service);
    await service.close();
  },

  tabUrl: async ({ appUrl, tokenService }, use) => {
    await use(`${appUrl}?${new URLSearchParams({ mint: tokenService.url })}`);
  },

  newTabs: async ({ profile, tabUrl }, use) => {
    await use(async (n) => {
      const tabs: EngineTab[] = [];
      for (let i = 0; i < n; i++) {
        const tab = await profile.openTab(tabUrl);
        await waitForHarness(tab);
        tabs.push(tab);
      }
      return tabs;
    });
  },
});
