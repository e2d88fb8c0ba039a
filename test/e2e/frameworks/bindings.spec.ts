import { endSession, expect, FRAMEWORKS, publishTexts, startSession, test, texts } from './fixtures.ts';
import { PAGE_SIZE, TOPICS } from './apps/topics.ts';

for (const framework of FRAMEWORKS) {
  test.describe(`${framework} bindings in production builds`, () => {
    test('several tabs render status and session and follow startSession and endSession from any tab', async ({
      openApp,
      mintToken,
    }) => {
      const tabs = [await openApp(framework), await openApp(framework), await openApp(framework)];
      await startSession(tabs[1]!, await mintToken({ sub: 'alice' }));
      for (const tab of tabs) {
        await expect(tab.getByTestId('status')).toHaveText('OPEN');
        await expect(tab.getByTestId('user')).toHaveText('alice');
        await expect(tab.getByTestId('tabs')).toHaveText('3');
      }
      await endSession(tabs[2]!);
      for (const tab of tabs) {
        await expect(tab.getByTestId('status')).toHaveText('UNINITIALIZED');
        await expect(tab.getByTestId('user')).toHaveText('none');
      }
      await startSession(tabs[0]!, await mintToken({ sub: 'bob' }));
      for (const tab of tabs) {
        await expect(tab.getByTestId('status')).toHaveText('OPEN');
        await expect(tab.getByTestId('user')).toHaveText('bob');
      }
    });

    test('a live topic renders every change in every tab, in order', async ({ openApp, mintToken, server }) => {
      const tabs = [await openApp(framework), await openApp(framework)];
      await startSession(tabs[0]!, await mintToken({ sub: 'alice' }));
      await server.publish(TOPICS.live, { text: 'm1' });
      await publishTexts(tabs[1]!, TOPICS.live, ['m2', 'm3']);
      await server.publish(TOPICS.live, { text: 'm4' });
      for (const tab of tabs) await expect(tab.getByTestId('live').locator('li')).toHaveText(texts('m', 1, 4));
    });

    test('infinite history pages back to the start of the topic and stays live', async ({
      openApp,
      mintToken,
      server,
    }) => {
      for (const text of texts('c', 1, 12)) await server.publish(TOPICS.infinite, { text });
      const tabs = [await openApp(framework), await openApp(framework)];
      await startSession(tabs[0]!, await mintToken({ sub: 'alice' }));
      const [first, second] = tabs as [(typeof tabs)[0], (typeof tabs)[0]];
      const items = first.getByTestId('infinite').locator('li');
      await expect(items).toHaveText(texts('c', 12 - PAGE_SIZE + 1, 12));
      await expect(first.getByTestId('has-more')).toHaveText('true');
      await first.getByTestId('load-more').click();
      await expect(items).toHaveText(texts('c', 12 - 2 * PAGE_SIZE + 1, 12));
      await first.getByTestId('load-more').click();
      await expect(items).toHaveText(texts('c', 1, 12));
      await expect(first.getByTestId('has-more')).toHaveText('false');
      await expect(first.getByTestId('load-more')).toBeDisabled();

      await publishTexts(second, TOPICS.infinite, ['c13']);
      await expect(items).toHaveText(texts('c', 1, 13));
      // The other tab still holds its newest page, with the live change appended.
      await expect(second.getByTestId('infinite').locator('li')).toHaveText(texts('c', 12 - PAGE_SIZE + 1, 13));
    });

    test('the paginated topic walks pages both ways, its newest page live', async ({ openApp, mintToken, server }) => {
      for (const text of texts('l', 1, 12)) await server.publish(TOPICS.paginated, { text });
      const tab = await openApp(framework);
      await startSession(tab, await mintToken({ sub: 'alice' }));
      const items = tab.getByTestId('paginated').locator('li');
      const page = tab.getByTestId('page');
      await expect(items).toHaveText(texts('l', 8, 12));
      await expect(tab.getByTestId('prev-page')).toBeDisabled();
      await tab.getByTestId('next-page').click();
      await expect(page).toHaveText('1');
      await expect(items).toHaveText(texts('l', 3, 7));
      await tab.getByTestId('next-page').click();
      await expect(page).toHaveText('2');
      await expect(items).toHaveText(texts('l', 1, 2));
      await expect(tab.getByTestId('next-page')).toBeDisabled();

      await server.publish(TOPICS.paginated, { text: 'l13' });
      await tab.getByTestId('prev-page').click();
      await expect(page).toHaveText('1');
      await expect(items).toHaveText(texts('l', 3, 7)); // an older page does not move
      await tab.getByTestId('prev-page').click();
      await expect(page).toHaveText('0');
      await expect(items).toHaveText(texts('l', 9, 13));
      await server.publish(TOPICS.paginated, { text: 'l14' });
      await expect(items).toHaveText(texts('l', 10, 14));
    });
  });
}
