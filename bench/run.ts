// `npm run bench`: every figure of spec §10 that a browser shows, measured in one run in headless
// Chromium against the reference server, each next to its baseline, printed as one table of ratios.
// `--quick` runs the same scenarios with small counts (the CI smoke run); nothing here asserts time.
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { createSessionServer, type SessionServer } from 'shared-session/server';
import { createTokenMinter } from 'shared-session/testing';
import { serveStatic } from '../test/e2e/static-server.ts';

const quick = process.argv.includes('--quick');
const counts = quick
  ? { tabs: [1, 5], rpc: 200, changes: 30, refreshes: 10, streamPerSecond: 200, openSamples: 2, memoryTabs: 5 }
  : {
      tabs: [1, 5, 10, 20],
      rpc: 3000,
      changes: 300,
      refreshes: 100,
      streamPerSecond: 1000,
      openSamples: 5,
      memoryTabs: 20,
    };

type Bench = {
  startShared(serverUrl: string, token: string, refreshEveryMs?: number, host?: 'auto' | 'leader'): Promise<number>;
  subscribeShared(topic: string): void;
  startDirect(serverUrl: string, token: string, topic?: string): Promise<number>;
  roundTrips(kind: 'host' | 'raw', count: number): Promise<number[]>;
  hostStats(): Promise<{ socketsOpened: number; refreshes: number; tabs: number }>;
  refreshes(): number;
  take(): { latencies: number[]; seqs: number[] };
};
declare const bench: Bench;

const rows: { metric: string; shared: string; baseline: string; ratio: string; target: string }[] = [];
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
function row(metric: string, shared: number | string, baseline: number | string, target = '', ratio?: number): void {
  const r = ratio ?? (typeof shared === 'number' && typeof baseline === 'number' ? shared / baseline : NaN);
  rows.push({
    metric,
    shared: typeof shared === 'number' ? fmt(shared) : shared,
    baseline: typeof baseline === 'number' ? fmt(baseline) : baseline,
    ratio: Number.isFinite(r) ? `${fmt(r)}×` : '–',
    target,
  });
  console.log(`  ${metric}: ${rows.at(-1)!.shared} vs ${rows.at(-1)!.baseline} (${rows.at(-1)!.ratio})`);
}
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const hiResNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    if (existsSync(chromium.executablePath())) return undefined;
  } catch {
    // no bundled browser for this platform
  }
  return '/usr/bin/chromium';
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Env {
  browser: Browser;
  appUrl: string;
  server: SessionServer;
  mintToken: ReturnType<typeof createTokenMinter>;
}

async function openTabs(env: Env, count: number): Promise<{ context: BrowserContext; pages: Page[] }> {
  const context = await env.browser.newContext();
  await context.exposeFunction('mintToken', () => env.mintToken({ sub: 'bench', roles: ['member'], expiresIn: 3600 }));
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await page.goto(env.appUrl);
    await page.waitForFunction(() => document.title === 'bench ready');
    pages.push(page);
  }
  return { context, pages };
}

async function socketsPerTabs(env: Env): Promise<void> {
  console.log('sockets at the server for N tabs');
  for (const n of counts.tabs) {
    const token = await env.mintToken({ sub: `sockets-${n}`, roles: ['member'] });
    const shared = await openTabs(env, n);
    for (const page of shared.pages)
      await page.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, token]);
    const sharedSockets = env.server.stats().socketsByUser[`sockets-${n}`] ?? 0;
    await shared.context.close();
    const direct = await openTabs(env, n);
    for (const page of direct.pages)
      await page.evaluate(([u, t]) => bench.startDirect(u!, t!), [env.server.url, token]);
    const directSockets = env.server.stats().socketsByUser[`sockets-${n}`] ?? 0;
    await direct.context.close();
    row(`sockets for ${n} tab(s)`, sharedSockets, directSockets, '1');
    const leader = await openTabs(env, n);
    for (const page of leader.pages) {
      await page.evaluate(([u, t]) => bench.startShared(u!, t!, undefined, 'leader'), [env.server.url, token]);
    }
    const leaderSockets = env.server.stats().socketsByUser[`sockets-${n}`] ?? 0;
    await leader.context.close();
    row(`sockets for ${n} tab(s), leader-tab host`, leaderSockets, directSockets, '1');
  }
}

async function rpcRoundTrip(env: Env): Promise<void> {
  console.log('page → host → page round trip');
  const { context, pages } = await openTabs(env, 1);
  const page = pages[0]!;
  await page.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, await env.mintToken({ sub: 'rpc' })]);
  await page.evaluate((n) => bench.roundTrips('host', n), 100); // warm up
  await page.evaluate((n) => bench.roundTrips('raw', n), 100);
  // Interleaved rounds, so that drift in the machine's load falls on both sides alike.
  const host: number[] = [];
  const raw: number[] = [];
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    host.push(...(await page.evaluate((n) => bench.roundTrips('host', n), counts.rpc / rounds)));
    raw.push(...(await page.evaluate((n) => bench.roundTrips('raw', n), counts.rpc / rounds)));
  }
  await context.close();
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  row('RPC round trip p50 (ms)', percentile(host, 50), percentile(raw, 50), '≤ 1.3×');
  row('RPC round trip p99 (ms)', percentile(host, 99), percentile(raw, 99));
  row('RPC round trip mean (ms)', mean(host), mean(raw));
}

/** Publishes `count` stamped changes at `perSecond` and collects each tab's latencies. */
async function stream(env: Env, topic: string, count: number, perSecond: number): Promise<void> {
  const interval = 1000 / perSecond;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await env.server.publish(topic, { t: hiResNow(), i });
    const due = started + (i + 1) * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
  }
}

async function fanOutLatency(env: Env): Promise<void> {
  console.log('server change → tabs latency');
  for (const tabs of [1, 10]) {
    const results: Record<'shared' | 'direct', number[]> = { shared: [], direct: [] };
    for (const mode of ['shared', 'direct'] as const) {
      const topic = `latency:${mode}:${tabs}:${randomBytes(4).toString('hex')}`;
      const token = await env.mintToken({ sub: `latency-${mode}-${tabs}` });
      const { context, pages } = await openTabs(env, tabs);
      const before = env.server.stats().subscriptions;
      for (const page of pages) {
        if (mode === 'shared') {
          await page.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, token]);
          await page.evaluate((name) => bench.subscribeShared(name), topic);
        } else {
          await page.evaluate(([u, t, name]) => bench.startDirect(u!, t!, name), [env.server.url, token, topic]);
        }
      }
      await waitFor(() => env.server.stats().subscriptions > before, 'the subscription');
      await stream(env, topic, counts.changes, 50);
      await sleep(300);
      for (const page of pages) results[mode].push(...(await page.evaluate(() => bench.take())).latencies);
      await context.close();
    }
    for (const p of [50, 99]) {
      row(
        `change → ${tabs} tab(s) p${p} (ms)`,
        percentile(results.shared, p),
        percentile(results.direct, p),
        p === 50 ? (tabs === 1 ? '≤ 1.5×' : '≤ 1.0×') : '',
      );
    }
  }
}

async function refreshUnderStream(env: Env): Promise<void> {
  console.log(`${counts.refreshes} token refreshes under a ${counts.streamPerSecond} msg/s stream`);
  const topic = `stream:${randomBytes(4).toString('hex')}`;
  const { context, pages } = await openTabs(env, 2);
  const token = await env.mintToken({ sub: 'bench', roles: ['member'] });
  const refreshEveryMs = 50;
  for (const page of pages) {
    await page.evaluate(
      ([u, t, every]) => bench.startShared(u as string, t as string, every as number),
      [env.server.url, token, refreshEveryMs],
    );
    await page.evaluate((name) => bench.subscribeShared(name), topic);
  }
  const before = env.server.stats().subscriptions;
  await waitFor(() => env.server.stats().subscriptions >= Math.max(1, before), 'the subscription');
  const startStats = await pages[0]!.evaluate(() => bench.hostStats());
  // Stream until the host has done the refreshes (each 50 ms), then stop.
  let total = 0;
  let done = false;
  const streaming = (async () => {
    const started = performance.now();
    while (!done) {
      await env.server.publish(topic, { t: hiResNow(), i: total++ });
      const wait = started + (total * 1000) / counts.streamPerSecond - performance.now();
      if (wait > 1) await sleep(wait);
    }
  })();
  for (;;) {
    const stats = await pages[0]!.evaluate(() => bench.hostStats());
    if (stats.refreshes - startStats.refreshes >= counts.refreshes) break;
    await sleep(50);
  }
  done = true;
  await streaming;
  await sleep(500);
  const endStats = await pages[0]!.evaluate(() => bench.hostStats());
  let lost = 0;
  let duplicated = 0;
  for (const page of pages) {
    const { seqs } = await page.evaluate(() => bench.take());
    const seen = new Set<number>();
    for (const seq of seqs) seen.has(seq) ? duplicated++ : seen.add(seq);
    for (let seq = 1; seq <= total; seq++) if (!seen.has(seq)) lost++;
  }
  await context.close();
  const refreshes = endStats.refreshes - startStats.refreshes;
  const reconnects = endStats.socketsOpened - startStats.socketsOpened;
  row(
    `refreshes during ${total} changes`,
    refreshes,
    counts.refreshes,
    `≥ ${counts.refreshes}`,
    refreshes / counts.refreshes,
  );
  row('reconnects / lost / duplicated', `${reconnects} / ${lost} / ${duplicated}`, '0 / 0 / 0', '0 / 0 / 0', NaN);
}

async function timeToOpen(env: Env): Promise<void> {
  console.log('startSession → OPEN');
  const first: number[] = [];
  const joining: number[] = [];
  for (let i = 0; i < counts.openSamples; i++) {
    const token = await env.mintToken({ sub: `open-${i}` });
    const { context, pages } = await openTabs(env, 2);
    first.push(await pages[0]!.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, token]));
    joining.push(await pages[1]!.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, token]));
    await context.close();
  }
  const directTimes: number[] = [];
  for (let i = 0; i < counts.openSamples; i++) {
    const { context, pages } = await openTabs(env, 1);
    const token = await env.mintToken({ sub: `open-direct-${i}` });
    directTimes.push(await pages[0]!.evaluate(([u, t]) => bench.startDirect(u!, t!), [env.server.url, token]));
    await context.close();
  }
  row('startSession → OPEN, first tab (ms)', percentile(first, 50), percentile(directTimes, 50));
  row('startSession → OPEN, joining tab (ms)', percentile(joining, 50), percentile(directTimes, 50));
}

/** Heap of the SharedWorker host, read over CDP (Playwright does not expose shared workers). */
async function sharedWorkerHeap(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as {
      targetInfos: { targetId: string; type: string; url: string }[];
    };
    const worker = targetInfos.find((t) => t.type === 'shared_worker' && !t.url.includes('echo'));
    if (!worker) return NaN;
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false })) as {
      sessionId: string;
    };
    let nextId = 0;
    const call = <T>(method: string): Promise<T> =>
      new Promise((resolve) => {
        const id = ++nextId;
        const onMessage = (event: { message: string }) => {
          const message = JSON.parse(event.message) as { id?: number; result: T };
          if (message.id !== id) return;
          cdp.off('Target.receivedMessageFromTarget', onMessage);
          resolve(message.result);
        };
        cdp.on('Target.receivedMessageFromTarget', onMessage);
        void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) });
      });
    await call('HeapProfiler.collectGarbage');
    const { usedSize } = await call<{ usedSize: number }>('Runtime.getHeapUsage');
    await cdp.send('Target.detachFromTarget', { sessionId });
    return usedSize;
  } finally {
    await cdp.detach();
  }
}

async function hostMemory(env: Env): Promise<void> {
  console.log('host memory per attached tab');
  const token = await env.mintToken({ sub: 'memory' });
  const topic = `memory:${randomBytes(4).toString('hex')}`;
  const { context, pages } = await openTabs(env, 1);
  const attach = async (page: Page) => {
    await page.evaluate(([u, t]) => bench.startShared(u!, t!), [env.server.url, token]);
    await page.evaluate((name) => bench.subscribeShared(name), topic);
  };
  await attach(pages[0]!);
  const one = await sharedWorkerHeap(env.browser);
  for (let i = 1; i < counts.memoryTabs; i++) {
    const page = await context.newPage();
    await page.goto(env.appUrl);
    await page.waitForFunction(() => document.title === 'bench ready');
    await attach(page);
  }
  const many = await sharedWorkerHeap(env.browser);
  const tabs = (await pages[0]!.evaluate(() => bench.hostStats())).tabs;
  await context.close();
  row(
    `host heap per tab, KiB (${tabs} tabs)`,
    (many - one) / (tabs - 1) / 1024,
    `${fmt(one / 1024, 0)} KiB with 1 tab`,
    '',
    NaN,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  await build({ configFile: fileURLToPath(new URL('./app/vite.config.ts', import.meta.url)) });
  // Cross-origin isolation gives performance.now() microsecond resolution (100 µs otherwise).
  const site = await serveStatic(fileURLToPath(new URL('../.tmp/bench-app', import.meta.url)), {
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  });
  const secret = randomBytes(32).toString('hex');
  const server = await createSessionServer({ port: 0, auth: { secret }, logger: false, rateLimit: false });
  const executablePath = chromiumPath();
  const browser = await chromium.launch({
    ...(executablePath && { executablePath }),
    args: ['--disable-gpu', '--disable-quic'],
  });
  const env: Env = { browser, appUrl: site.url, server, mintToken: createTokenMinter(secret) };
  console.log(`shared-session bench${quick ? ' (quick)' : ''}: Chromium ${browser.version()}, Node ${process.version}`);
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  try {
    await socketsPerTabs(env);
    await rpcRoundTrip(env);
    await fanOutLatency(env);
    await refreshUnderStream(env);
    await timeToOpen(env);
    await hostMemory(env);
  } finally {
    await browser.close();
    await server.close();
    await site.close();
  }
  console.log('\n| metric | shared-session | baseline | ratio | target |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.metric} | ${r.shared} | ${r.baseline} | ${r.ratio} | ${r.target} |`);
  console.log(`\nbaselines: one socket per tab speaking the same protocol; a raw MessagePort echo SharedWorker.`);
  console.log(`bench finished in ${Math.round((performance.now() - started) / 1000)} s`);
}

await main();
