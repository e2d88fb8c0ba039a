/**
 * Testing your own multi-tab app with `shared-session/testing`: the example the README quotes.
 *
 * The app under test is a small team feed (test/e2e/app/feed.html): every tab shows the topic
 * `feed:team` and can post to it; it reads the server URL and the token from its query string.
 * `baseURL` in playwright.config.ts points at wherever the app is served.
 */
import type { Page } from '@playwright/test';
import { assertSameOrderedChanges, expect, test } from 'shared-session/testing';

// Options of the reference server for these tests: only members may read and post in team feeds.
test.use({
  sessionServerOptions: { permissions: { 'feed:*': { read: ['member'], write: ['member'] } } },
});

/** The app's URL for a user with `token`, talking to `server`. */
const feedUrl = (server: string, token: string) => `/feed.html?${new URLSearchParams({ server, token })}`;

/** The seq of every item a tab shows, top to bottom (the app writes it into `data-seq`). */
const shownSeqs = (tab: Page) =>
  tab.getByRole('listitem').evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));

test('every tab of a signed-in user shares one socket and shows the same feed', async ({ sessionServer, openTabs }) => {
  const token = await sessionServer.mintToken({ sub: 'alice', roles: ['member'] });
  const tabs = await openTabs(3, feedUrl(sessionServer.url, token));
  for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('OPEN');
  expect(sessionServer.socketsForUser('alice')).toBe(1);

  await sessionServer.server.publish('feed:team', { text: 'Welcome!' });
  await tabs[1]!.getByLabel('Message').fill('Hi from tab 2');
  await tabs[1]!.getByRole('button', { name: 'Post' }).click();

  for (const tab of tabs) await expect(tab.getByRole('listitem')).toHaveText(['Welcome!', 'Hi from tab 2']);
  assertSameOrderedChanges(await Promise.all(tabs.map(shownSeqs)), 2);
});

test('after a network outage every tab catches up on what it missed, in order', async ({ sessionServer, openTabs }) => {
  const token = await sessionServer.mintToken({ sub: 'alice', roles: ['member'] });
  const tabs = await openTabs(2, feedUrl(sessionServer.url, token));
  for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('OPEN');

  sessionServer.cut();
  for (const tab of tabs) await expect(tab.getByTestId('status')).not.toHaveText('OPEN');
  for (let n = 1; n <= 5; n++) await sessionServer.server.publish('feed:team', { text: `missed ${n}` });
  sessionServer.restore();

  for (const tab of tabs) await expect(tab.getByRole('listitem')).toHaveCount(5);
  assertSameOrderedChanges(await Promise.all(tabs.map(shownSeqs)), 5);
  expect(sessionServer.socketsForUser('alice')).toBe(1);
});

test('a post written offline appears once in every tab when the network returns', async ({
  sessionServer,
  openTabs,
}) => {
  const token = await sessionServer.mintToken({ sub: 'alice', roles: ['member'] });
  const tabs = await openTabs(2, feedUrl(sessionServer.url, token));
  for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('OPEN');

  sessionServer.cut();
  await tabs[0]!.getByLabel('Message').fill('Written on the train');
  await tabs[0]!.getByRole('button', { name: 'Post' }).click();
  sessionServer.restore();

  for (const tab of tabs) await expect(tab.getByRole('listitem')).toHaveText(['Written on the train']);
  expect(sessionServer.server.stats().changesStored).toBe(1);
});

test('a user who is not a member is refused the feed', async ({ sessionServer, openTabs }) => {
  const token = await sessionServer.mintToken({ sub: 'mallory', roles: ['guest'] });
  const [tab] = await openTabs(1, feedUrl(sessionServer.url, token));

  await expect(tab!.getByTestId('error')).toHaveText('FORBIDDEN');
  await expect(tab!.getByRole('listitem')).toHaveCount(0);
});

test('when the session expires every tab says so, and signing in again brings the feed back', async ({
  sessionServer,
  openTabs,
}) => {
  const token = await sessionServer.mintToken({ sub: 'alice', roles: ['member'] });
  const tabs = await openTabs(2, feedUrl(sessionServer.url, token));
  for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('OPEN');
  await sessionServer.server.publish('feed:team', { text: 'Before the expiry' });
  for (const tab of tabs) await expect(tab.getByRole('listitem')).toHaveText(['Before the expiry']);

  // As if the token's `exp` had passed: no waiting out a token's lifetime.
  expect(sessionServer.expireSessionNow('alice')).toBe(1);
  for (const tab of tabs) {
    await expect(tab.getByTestId('error')).toHaveText('TOKEN_EXPIRED');
    await expect(tab.getByTestId('status')).toHaveText('CLOSED');
  }
  expect(sessionServer.socketsForUser('alice')).toBe(0);

  const fresh = await sessionServer.mintToken({ sub: 'alice', roles: ['member'] });
  for (const tab of tabs) await tab.goto(feedUrl(sessionServer.url, fresh));
  for (const tab of tabs) {
    await expect(tab.getByTestId('status')).toHaveText('OPEN');
    await expect(tab.getByRole('listitem')).toHaveText(['Before the expiry']);
  }
  expect(sessionServer.socketsForUser('alice')).toBe(1);
});
