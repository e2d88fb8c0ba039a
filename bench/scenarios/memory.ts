// The host's heap per attached tab: the SharedWorker's used heap (after a GC, read over CDP) with
// one tab and with many, each subscribed to one topic.
import { randomBytes } from 'node:crypto';
import { TargetSession } from '../cdp.ts';
import { openTab, openTabs, tabUrl, type BenchEnv, type PageKind } from '../env.ts';
import { row } from '../table.ts';

async function hostHeap(env: BenchEnv): Promise<number> {
  const host = await TargetSession.attach(env.browser, (t) => t.type === 'shared_worker' && !t.url.includes('echo'));
  try {
    await host.send('HeapProfiler.collectGarbage');
    return (await host.send<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize;
  } finally {
    await host.detach();
  }
}

export async function hostMemory(env: BenchEnv, kind: PageKind, tabs: number): Promise<void> {
  const token = await env.mintToken({ sub: `memory-${kind}` });
  const topic = `memory:${randomBytes(4).toString('hex')}`;
  const { context, pages } = await openTabs(env, kind, 1);
  try {
    const attach = async (page: (typeof pages)[number]) => {
      await page.evaluate((t) => bench.startShared(t), token);
      await page.evaluate((name) => bench.subscribeShared(name), topic);
    };
    await attach(pages[0]!);
    const one = await hostHeap(env);
    for (let i = 1; i < tabs; i++) await attach(await openTab(context, tabUrl(env, kind, 'auto')));
    const many = await hostHeap(env);
    const attached = (await pages[0]!.evaluate(() => bench.hostStats())).tabs;
    row(
      `host heap per tab, KiB (${attached} tabs)`,
      kind,
      (many - one) / (attached - 1) / 1024,
      `${Math.round(one / 1024)} KiB with 1 tab`,
    );
  } finally {
    await context.close();
  }
}
