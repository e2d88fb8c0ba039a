// Server change → tabs (spec §10): N tabs subscribed through the host next to N tabs each on its
// own socket and N tabs of a bare relay SharedWorker (bench/app/relay-worker.js: one raw socket,
// frames posted as text to every tab — the floor of any one-socket SharedWorker design in this
// browser), all open at once and fed in turn (one change for each side), so that all see the same
// machine load. Latency: server publish → the tab's `onChange` (the relay tabs: their handler).
import { randomBytes } from 'node:crypto';
import { hiResNow, openTabs, percentile, sleep, waitFor, type BenchEnv, type PageKind } from '../env.ts';
import { row, type Target } from '../table.ts';

/** Targets of spec §10: one tab pays the extra hop within these; ten tabs gain from one socket. */
export const FAN_OUT_TARGETS: Record<number, { p50: Target; p99: Target }> = {
  1: { p50: { max: 1.3 }, p99: { max: 1.5 } },
  10: { p50: { max: 0.8 }, p99: undefined },
};

/** Gap between two publishes (one side each): every change is delivered before the next one. */
const publishGapMs = (tabs: number) => (tabs > 1 ? 10 : 5);

export async function fanOutLatency(env: BenchEnv, kind: PageKind, tabs: number, changes: number): Promise<void> {
  const id = `${kind}-${tabs}-${randomBytes(4).toString('hex')}`;
  const sharedTopic = `latency:shared:${id}`;
  const directTopic = `latency:direct:${id}`;
  const shared = await openTabs(env, kind, tabs, 'auto');
  const direct = await openTabs(env, kind, tabs, 'none');
  const relay = await openTabs(env, kind, tabs, 'none');
  const relayTopic = `latency:relay:${id}`;
  try {
    const sharedToken = await env.mintToken({ sub: `latency-shared-${id}` });
    for (const page of shared.pages) {
      await page.evaluate((t) => bench.startShared(t), sharedToken);
      await page.evaluate((name) => bench.subscribeShared(name), sharedTopic);
    }
    const directToken = await env.mintToken({ sub: `latency-direct-${id}` });
    for (const page of direct.pages) {
      await page.evaluate(
        ([u, t, name]) => bench.startDirect(u!, t!, name),
        [env.server.url, directToken, directTopic],
      );
    }
    const relayToken = await env.mintToken({ sub: `latency-relay-${id}` });
    for (const page of relay.pages) {
      await page.evaluate(([u, t, name]) => bench.startRelay(u!, t!, name!), [env.server.url, relayToken, relayTopic]);
    }
    // The direct and relay tabs are subscribed (startDirect waited for it); the host is once a probe reaches every tab.
    await env.server.publish(sharedTopic, { probe: true });
    for (const page of shared.pages) {
      let received = 0;
      await waitFor(
        () => received > 0,
        'the probe change',
        15_000,
        async () => {
          received = await page.evaluate(() => bench.received());
        },
      );
      await page.evaluate(() => bench.take());
    }
    const warmUp = Math.min(20, changes);
    for (let i = 0; i < changes + warmUp; i++) {
      for (const topic of [sharedTopic, directTopic, relayTopic]) {
        await env.server.publish(topic, { t: hiResNow(), i });
        await sleep(publishGapMs(tabs));
      }
    }
    await sleep(300);
    const latencies = async (pages: typeof shared.pages) => {
      const all: number[] = [];
      for (const page of pages) all.push(...(await page.evaluate(() => bench.take())).latencies.slice(warmUp));
      return all;
    };
    const viaHost = await latencies(shared.pages);
    const ownSockets = await latencies(direct.pages);
    const viaRelay = await latencies(relay.pages);
    const targets = FAN_OUT_TARGETS[tabs];
    for (const p of [50, 99] as const) {
      const [host, own, floor] = [percentile(viaHost, p), percentile(ownSockets, p), percentile(viaRelay, p)];
      row(`change → ${tabs} tab(s) p${p} (ms)`, kind, host, own, targets?.[`p${p}`]);
      row(`change → ${tabs} tab(s) p${p}, bare relay SharedWorker (the floor) (ms)`, kind, floor, own);
    }
  } finally {
    await shared.context.close();
    await direct.context.close();
    await relay.context.close();
  }
}
