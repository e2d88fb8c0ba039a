import { expect, hostStats, openSession, test } from './fixtures.ts';
import {
  publishFromTab,
  publishOutcome,
  received,
  startPublish,
  subscribe,
  waitForChanges,
  waitForHost,
  waitForSubscriptionError,
} from './topic-helpers.ts';

/** What a FORBIDDEN refusal looks like on the page: the typed class, the code, and SessionError. */
const FORBIDDEN = {
  name: 'ForbiddenError',
  code: 'FORBIDDEN',
  instanceOf: expect.arrayContaining(['ForbiddenError', 'SessionError']),
};

test.describe('topic permissions (spec §6)', () => {
  test.use({
    serverOptions: {
      permissions: {
        'public:*': { read: ['user', 'admin'], write: ['admin'] },
        'staff:*': { read: ['admin'], write: ['admin'] },
      },
    },
  });

  test('a denied subscribe reaches onError with a typed FORBIDDEN error and never yields data', async ({
    server,
    mintToken,
    openTab,
  }) => {
    await server.publish('staff:plans', { secret: 1 });
    await server.publish('user:bob', { secret: 2 });
    const page = await openTab();
    await openSession(page, server.url, await mintToken({ sub: 'alice', roles: ['user'] }));

    await subscribe(page, 'staff', 'staff:plans');
    await subscribe(page, 'bob', 'user:bob');
    await subscribe(page, 'news', 'public:news');
    for (const label of ['staff', 'bob']) {
      const log = await waitForSubscriptionError(page, label);
      expect(log.errors, label).toEqual([expect.objectContaining(FORBIDDEN)]);
      expect(log.changes, label).toEqual([]);
    }

    // Changes after the refusal do not arrive either; the readable topic's change proves delivery works.
    await server.publish('staff:plans', { secret: 3 });
    await server.publish('user:bob', { secret: 4 });
    await server.publish('public:news', { text: 'hello' });
    await waitForChanges(page, 'news', 1);
    for (const label of ['staff', 'bob']) {
      const log = await received(page, label);
      expect(log.changes, label).toEqual([]);
      expect(log.errors, `${label}: onError once`).toHaveLength(1);
    }
    expect(server.stats().subscriptions, 'only public:news is subscribed at the server').toBe(1);
    expect((await hostStats(page)).tabSubscriptions).toBe(1);
  });

  test('a denied publish rejects with a typed FORBIDDEN error and nothing is stored', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    await openSession(page, server.url, await mintToken({ sub: 'alice', roles: ['user'] }));
    await subscribe(page, 'news', 'public:news');
    await waitForHost(page, (s) => s.topics === 1, 'subscribed to public:news');

    for (const topic of ['public:news', 'staff:plans', 'user:bob']) {
      const outcome = await publishOutcome(page, await startPublish(page, topic, { from: 'alice' }));
      expect(outcome.ok, `publish to ${topic}`).toBe(false);
      expect(!outcome.ok && outcome.error, `publish to ${topic}`).toMatchObject(FORBIDDEN);
    }
    expect(server.stats().changesStored, 'nothing stored').toBe(0);
    expect((await hostStats(page)).outbox, 'refused publishes leave the outbox').toBe(0);

    // The user's own private topic is writable; the server's change to public:news is its first.
    expect(await publishFromTab(page, 'user:alice', { note: 'mine' })).toEqual({ seq: 1 });
    expect(await server.publish('public:news', { from: 'server' })).toEqual({ seq: 1 });
    const { changes } = await waitForChanges(page, 'news', 1);
    expect(changes.map((c) => c.data)).toEqual([{ from: 'server' }]);
  });
});
