// `npx tsx bench/profile.ts [--minify] [--only=rpc|rpc-breakdown|fan-out]`: where the time of the
// RPC and fan-out benches goes. Runs each scenario with V8's sampling profiler (CDP `Profiler`,
// 50 µs) on the page and on the SharedWorker host and prints the functions with the most self time
// on each side; times an RPC round trip layer by layer (raw echo, comlink's envelope, comlink, the
// host, the page's layers). Built unminified by default so that the names are readable. Needs
// `npm run build` first.
import { randomBytes } from 'node:crypto';
import { hotFunctions, TargetSession, type CpuProfile } from './cdp.ts';
import {
  hiResNow,
  mean,
  openTabs,
  PAGE_KINDS,
  percentile,
  sleep,
  startBenchEnv,
  waitFor,
  type BenchEnv,
} from './env.ts';

const RPC_ROUNDS = 2_000;
const CHANGES = 400;
const TABS = [1, 10];

function print(title: string, profile: CpuProfile): void {
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const { busyMs, functions } = hotFunctions(profile, 18);
  console.log(`\n${title}: busy ${busyMs.toFixed(1)} ms of ${wallMs.toFixed(0)} ms`);
  for (const f of functions) {
    console.log(`  ${f.selfMs.toFixed(2).padStart(8)} ms  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.frame}`);
  }
}

/** Attaches to the host worker and to the first page of the app. */
async function attach(env: BenchEnv): Promise<{ host: TargetSession; page: TargetSession }> {
  const host = await TargetSession.attach(env.browser, (t) => t.type === 'shared_worker' && !t.url.includes('echo'));
  const page = await TargetSession.attach(env.browser, (t) => t.type === 'page' && t.url.startsWith('http'));
  return { host, page };
}

async function profileRpc(env: BenchEnv): Promise<void> {
  const { context, pages } = await openTabs(env, 'isolated', 1);
  const page = pages[0]!;
  const token = await env.mintToken({ sub: 'profile-rpc' });
  await page.evaluate((t) => bench.startShared(t), token);
  await page.evaluate((n) => bench.rpcRounds(n), 200); // warm up (JIT, the echo worker)
  const { host, page: tab } = await attach(env);
  const echo = await TargetSession.attach(env.browser, (t) => t.type === 'shared_worker' && t.url.includes('echo'));
  await Promise.all([host.startProfile(), tab.startProfile(), echo.startProfile()]);
  await page.evaluate((n) => bench.rpcRounds(n), RPC_ROUNDS);
  const [hostProfile, tabProfile, echoProfile] = await Promise.all([
    host.stopProfile(),
    tab.stopProfile(),
    echo.stopProfile(),
  ]);
  print(`RPC, ${RPC_ROUNDS} rounds (ping + getSession + 2 raw): page`, tabProfile);
  print('RPC: host worker', hostProfile);
  print('RPC: echo worker (the raw MessagePort baseline)', echoProfile);
  await Promise.all([host.detach(), tab.detach(), echo.detach()]);
  await context.close();
}

async function profileFanOut(env: BenchEnv, tabs: number): Promise<void> {
  const { context, pages } = await openTabs(env, 'isolated', tabs);
  const token = await env.mintToken({ sub: `profile-fan-out-${tabs}` });
  const topic = `profile:${randomBytes(4).toString('hex')}`;
  const before = env.server.stats().subscriptions;
  for (const page of pages) {
    await page.evaluate((t) => bench.startShared(t), token);
    await page.evaluate((name) => bench.subscribeShared(name), topic);
  }
  await waitFor(() => env.server.stats().subscriptions > before, 'the subscription');
  const { host, page: tab } = await attach(env);
  await Promise.all([host.startProfile(), tab.startProfile()]);
  for (let i = 0; i < CHANGES; i++) {
    await env.server.publish(topic, { t: hiResNow(), i });
    await sleep(5);
  }
  await sleep(300);
  const [hostProfile, tabProfile] = await Promise.all([host.stopProfile(), tab.stopProfile()]);
  print(`fan-out to ${tabs} tab(s), ${CHANGES} changes: one page`, tabProfile);
  print(`fan-out to ${tabs} tab(s): host worker`, hostProfile);
  await Promise.all([host.detach(), tab.detach()]);
  await context.close();
}

/** The RPC round trip layer by layer (bench.rpcBreakdown), in both page kinds. */
async function rpcBreakdown(env: BenchEnv): Promise<void> {
  for (const kind of PAGE_KINDS) {
    const { context, pages } = await openTabs(env, kind, 1);
    const page = pages[0]!;
    await page.evaluate((t) => bench.startShared(t), await env.mintToken({ sub: `breakdown-${kind}` }));
    await page.evaluate((n) => bench.rpcBreakdown(n), 300); // warm up
    const layers = await page.evaluate((n) => bench.rpcBreakdown(n), RPC_ROUNDS);
    await context.close();
    console.log(
      `\nRPC round trip layer by layer, ${kind} page, ${RPC_ROUNDS} calls each beside as many raw echoes (ms):`,
    );
    for (const [layer, { layer: times, raw }] of Object.entries(layers)) {
      const stat = (v: number[]) =>
        `${mean(v).toFixed(3)}/${percentile(v, 50).toFixed(3)}/${percentile(v, 99).toFixed(3)}`;
      const ratio = (p: number) => {
        const r = percentile(times, p) / percentile(raw, p);
        return Number.isFinite(r) ? r.toFixed(2) : '–'; // 0 ms at 100 µs resolution
      };
      console.log(
        `  ${layer.padEnd(38)} mean/p50/p99 ${stat(times)} vs raw ${stat(raw)}: ` +
          `mean ${(mean(times) / mean(raw)).toFixed(2)}×, p50 ${ratio(50)}×, p99 ${ratio(99)}×`,
      );
    }
  }
}

/** The baseline: one tab on its own socket, for the page's share of the same stream. */
async function profileOwnSocket(env: BenchEnv): Promise<void> {
  const { context, pages } = await openTabs(env, 'isolated', 1, 'none');
  const token = await env.mintToken({ sub: 'profile-own-socket' });
  const topic = `profile:${randomBytes(4).toString('hex')}`;
  await pages[0]!.evaluate(([u, t, name]) => bench.startDirect(u!, t!, name), [env.server.url, token, topic]);
  const tab = await TargetSession.attach(env.browser, (t) => t.type === 'page' && t.url.startsWith('http'));
  await tab.startProfile();
  for (let i = 0; i < CHANGES; i++) {
    await env.server.publish(topic, { t: hiResNow(), i });
    await sleep(5);
  }
  await sleep(300);
  print(`baseline, a tab on its own socket, ${CHANGES} changes: the page`, await tab.stopProfile());
  await tab.detach();
  await context.close();
}

const env = await startBenchEnv({ minify: process.argv.includes('--minify') });
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
try {
  if (!only || only === 'rpc') await profileRpc(env);
  if (!only || only === 'rpc' || only === 'rpc-breakdown') await rpcBreakdown(env);
  if (!only || only === 'fan-out') {
    for (const tabs of TABS) await profileFanOut(env, tabs);
    await profileOwnSocket(env);
  }
} finally {
  await env.close();
}
