import { hostStats } from '../fixtures.ts';
import { expect, publishTexts, startSession, test, texts } from './fixtures.ts';
import { TOPICS } from './apps/topics.ts';

/** Background refreshes the render-count measurement waits for. */
const REFRESHES = 100;

test.describe('react bindings: StrictMode, server rendering, renders', () => {
  test('StrictMode (development build) leaves one tab subscription per topic hook, with no error or warning', async ({
    openApp,
    mintToken,
  }) => {
    const tab = await openApp('react', '../dev/react/index.html');
    await startSession(tab, await mintToken({ sub: 'alice' }));
    await expect(tab.getByTestId('status')).toHaveText('OPEN');
    await publishTexts(tab, TOPICS.live, ['s1', 's2']);
    await expect(tab.getByTestId('live').locator('li')).toHaveText(texts('s', 1, 2));
    // The live topic, and the live tails of the infinite and paginated topics once their newest page came.
    const expected = 3;
    await expect.poll(async () => (await hostStats(tab)).tabSubscriptions).toBe(expected);
  });

  test('the page rendered on the server (renderToString in Node) hydrates without an error or warning', async ({
    openApp,
    mintToken,
  }) => {
    const tab = await openApp('react', 'ssr.html');
    await startSession(tab, await mintToken({ sub: 'alice' }));
    await expect(tab.getByTestId('status')).toHaveText('OPEN');
    await expect(tab.getByTestId('user')).toHaveText('alice');
  });

  test(`a useConnectionStatus component renders no more during ${REFRESHES} background refreshes`, async ({
    openApp,
    mintToken,
    context,
  }) => {
    test.setTimeout(90_000);
    await context.exposeFunction('mintBindingsToken', () => mintToken({ sub: 'alice', expiresIn: 30 }));
    const tab = await openApp('react');
    await tab.evaluate(
      async (token) => {
        const mint = (window as unknown as { mintBindingsToken(): Promise<string> }).mintBindingsToken;
        await window.client.startSession(token, true, { refreshHandler: () => mint(), interval: 50 });
      },
      await mintToken({ sub: 'alice', expiresIn: 30 }),
    );
    await expect(tab.getByTestId('status')).toHaveText('OPEN');
    const refreshesBefore = (await hostStats(tab)).refreshes;
    const rendersBefore = await tab.evaluate(() => window.statusRenders ?? 0);
    await expect
      .poll(async () => (await hostStats(tab)).refreshes - refreshesBefore, { timeout: 80_000 })
      .toBeGreaterThanOrEqual(REFRESHES);
    const rendersAfter = await tab.evaluate(() => window.statusRenders ?? 0);
    const refreshes = (await hostStats(tab)).refreshes - refreshesBefore;
    console.log(
      `measure: useConnectionStatus component rendered ${rendersAfter - rendersBefore} times during ${refreshes} background refreshes`,
    );
    expect(rendersAfter - rendersBefore).toBe(0);
    await expect(tab.getByTestId('status')).toHaveText('OPEN');
  });
});
