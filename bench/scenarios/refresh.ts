// Token refreshes under a change stream (spec §10: 100 refreshes under 1,000 msg/s, 0 reconnects,
// 0 lost, 0 duplicates), two tabs on one host, every change checked by seq in both.
import { randomBytes } from 'node:crypto';
import { hiResNow, openTabs, sleep, waitFor, type BenchEnv, type PageKind } from '../env.ts';
import { row } from '../table.ts';

/** Refresh interval the tabs register: 100 refreshes take about 5 s. */
const REFRESH_EVERY_MS = 50;

export async function refreshUnderStream(
  env: BenchEnv,
  kind: PageKind,
  refreshes: number,
  perSecond: number,
): Promise<void> {
  const topic = `stream:${randomBytes(4).toString('hex')}`;
  const { context, pages } = await openTabs(env, kind, 2);
  try {
    // The same user as the tabs' refresh handler mints for (`mintToken` in openTabs).
    const token = await env.mintToken({ sub: 'bench', roles: ['member'] });
    for (const page of pages) {
      await page.evaluate(([t, every]) => bench.startShared(t as string, every as number), [token, REFRESH_EVERY_MS]);
      await page.evaluate((name) => bench.subscribeShared(name), topic);
    }
    const before = env.server.stats().subscriptions;
    await waitFor(() => env.server.stats().subscriptions >= Math.max(1, before), 'the subscription');
    const startStats = await pages[0]!.evaluate(() => bench.hostStats());
    // Stream until the host has done the refreshes, then stop.
    let total = 0;
    let done = false;
    const streaming = (async () => {
      const started = performance.now();
      while (!done) {
        await env.server.publish(topic, { t: hiResNow(), i: total++ });
        const wait = started + (total * 1000) / perSecond - performance.now();
        if (wait > 1) await sleep(wait);
      }
    })();
    let refreshed = 0;
    await waitFor(
      () => refreshed >= refreshes,
      `${refreshes} refreshes`,
      120_000,
      async () => {
        refreshed = (await pages[0]!.evaluate(() => bench.hostStats())).refreshes - startStats.refreshes;
        await sleep(40);
      },
    );
    done = true;
    await streaming;
    // Every change reached both tabs (or the bench reports them lost).
    let received = 0;
    await waitFor(
      () => received >= 2 * total,
      'the last changes',
      5_000,
      async () => {
        received = 0;
        for (const page of pages) received += await page.evaluate(() => bench.received());
      },
    ).catch(() => undefined);
    const endStats = await pages[0]!.evaluate(() => bench.hostStats());
    let lost = 0;
    let duplicated = 0;
    for (const page of pages) {
      const { seqs } = await page.evaluate(() => bench.take());
      const seen = new Set<number>();
      for (const seq of seqs) seen.has(seq) ? duplicated++ : seen.add(seq);
      for (let seq = 1; seq <= total; seq++) if (!seen.has(seq)) lost++;
    }
    const reconnects = endStats.socketsOpened - startStats.socketsOpened;
    row(
      `refreshes during ${total} changes (${perSecond}/s)`,
      kind,
      endStats.refreshes - startStats.refreshes,
      refreshes,
      {
        min: refreshes,
      },
    );
    row('reconnects / lost / duplicated', kind, `${reconnects} / ${lost} / ${duplicated}`, '0 / 0 / 0', {
      equals: '0 / 0 / 0',
    });
  } finally {
    await context.close();
  }
}
