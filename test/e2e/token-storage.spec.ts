import { expect, openSession, test } from './fixtures.ts';
import { publishFromTab, subscribe, waitForChanges } from './topic-helpers.ts';

/** Every record of every object store of the host's IndexedDB database, as JSON text. */
function dumpHostDatabase(): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('shared-session');
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const names = [...db.objectStoreNames];
      if (names.length === 0) return resolve('[]');
      const tx = db.transaction(names, 'readonly');
      const dumps = names.map(
        (name) =>
          new Promise<unknown>((done) => {
            const all = tx.objectStore(name).getAll();
            all.onsuccess = () => done({ name, records: all.result });
          }),
      );
      void Promise.all(dumps).then((value) => {
        db.close();
        resolve(JSON.stringify(value));
      });
    };
  });
}

test.describe('tokens are not persisted by default (SECURITY.md)', () => {
  test('after a start, a refresh and a publish, no record in IndexedDB holds a token', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const page = await openTab();
    const token = await mintToken({ sub: 'alice', roles: ['member'], expiresIn: 3 });
    await openSession(page, server.url, token, { refresh: { sub: 'alice', roles: ['member'], expiresIn: 60 } });
    await subscribe(page, 'feed', 'room');
    await publishFromTab(page, 'room', { text: 'hello' });
    await waitForChanges(page, 'feed', 1);
    // Wait for a refresh, so that a second token exists too.
    await page.waitForFunction(() => window.events.refreshCalls.some((call) => call.token), undefined, {
      timeout: 10_000,
    });
    const refreshed = await page.evaluate(() => window.events.refreshCalls.find((call) => call.token)!.token!);

    const dump = await page.evaluate(dumpHostDatabase);
    expect(dump, 'the session record was written').toContain('"userId":"alice"');
    for (const secret of [token, refreshed]) {
      expect(dump).not.toContain(secret);
      // Not even its signature part, in case a record held it split or re-encoded.
      expect(dump).not.toContain(secret.split('.')[2]!);
    }
  });
});
