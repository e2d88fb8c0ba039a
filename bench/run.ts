// `npm run bench`: every figure of spec §10 that a browser shows, measured in one run in headless
// Chromium against the reference server, each next to its baseline measured in the same run, in a
// cross-origin-isolated page and in a default page, with the bench app built as a consumer builds
// it (Vite, minified). Prints one table of ratios; nothing here asserts time.
//
// `--quick`: the same scenarios with small counts (the CI smoke run). `--only=rpc,fan-out,open,…`
// runs some scenarios (while working on one). `--no-minify` keeps names readable.
import os from 'node:os';
import { PAGE_KINDS, startBenchEnv } from './env.ts';
import { fanOutLatency } from './scenarios/fan-out.ts';
import { hostMemory } from './scenarios/memory.ts';
import { timeToOpen } from './scenarios/open.ts';
import { refreshUnderStream } from './scenarios/refresh.ts';
import { rpcRoundTrip } from './scenarios/rpc.ts';
import { socketsPerTabs } from './scenarios/sockets.ts';
import { markdownTable, missed } from './table.ts';

const quick = process.argv.includes('--quick');
const counts = quick
  ? {
      tabs: [1, 5],
      rpcRounds: 200,
      changes: { 1: 30, 10: 10 },
      refreshes: 10,
      streamPerSecond: 200,
      openSamples: 2,
      memoryTabs: 5,
    }
  : {
      tabs: [1, 5, 10, 20],
      rpcRounds: 3_000,
      // Changes per side: a p99 of one tab needs many; ten tabs give ten samples per change.
      changes: { 1: 1_000, 10: 300 },
      refreshes: 100,
      streamPerSecond: 1_000,
      openSamples: 9,
      memoryTabs: 20,
    };
const SCENARIOS = ['sockets', 'rpc', 'fan-out', 'refresh', 'open', 'memory'] as const;
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const runs = (scenario: (typeof SCENARIOS)[number]) => !only || only.includes(scenario);

const started = performance.now();
const env = await startBenchEnv({ minify: !process.argv.includes('--no-minify') });
const cpus = os.cpus();
const header =
  `shared-session bench${quick ? ' (quick)' : ''}: Chromium ${env.browser.version()}, Node ${process.version}, ` +
  `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
  `load average ${os.loadavg()[0]!.toFixed(1)}, ${env.minified ? 'minified' : 'unminified'} consumer build (Vite)`;
console.log(header);
try {
  // Host-count figures do not depend on the page kind: measured in the default page (most apps).
  if (runs('sockets')) await socketsPerTabs(env, 'default', counts.tabs);
  for (const kind of PAGE_KINDS) {
    console.log(`\n${kind} page`);
    if (runs('rpc')) await rpcRoundTrip(env, kind, counts.rpcRounds);
    if (runs('fan-out'))
      for (const tabs of [1, 10] as const) await fanOutLatency(env, kind, tabs, counts.changes[tabs]);
    if (runs('open')) await timeToOpen(env, kind, counts.openSamples);
  }
  if (runs('refresh')) await refreshUnderStream(env, 'default', counts.refreshes, counts.streamPerSecond);
  if (runs('memory')) await hostMemory(env, 'default', counts.memoryTabs);
} finally {
  await env.close();
}
console.log(`\n${header}, load average at the end ${os.loadavg()[0]!.toFixed(1)}\n`);
console.log(markdownTable());
console.log(
  '\nbaselines: a raw MessagePort echo SharedWorker (RPC); the same tabs each on its own socket speaking the ' +
    'same protocol (sockets, fan-out, startSession → OPEN). isolated: COOP/COEP (µs timers); default: no ' +
    'headers (100 µs timers).',
);
const misses = missed();
console.log(misses.length === 0 ? 'every target met in this run' : `targets missed in this run: ${misses.length}`);
console.log(`bench finished in ${Math.round((performance.now() - started) / 1000)} s`);
