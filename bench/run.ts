// `npm run bench`: every figure of spec §10 that a browser shows, measured in one run in headless
// Chromium against the reference server, each next to its baseline measured in the same run, in a
// cross-origin-isolated page and in a default page, with the bench app built as a consumer builds
// it (Vite, minified). Prints one table of ratios; nothing here asserts time.
//
// The server figures come from the server benches, run afterwards as child processes (the
// browser is closed by then, so they have the cores to themselves): bench/publish (durable
// publish: LMDB and Redis vs the memory store) and bench/load (broadcast per server CPU-second vs
// bare ws, connect rate vs bare ws + jose); each writes its figures as JSON and they join the table.
//
// `--quick`: the same scenarios with small counts (the CI smoke run). `--only=rpc,fan-out,open,…`
// runs some scenarios (while working on one; `publish` and `load` are the server benches).
// `--no-minify` keeps names readable.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGE_KINDS, startBenchEnv, type BenchEnv } from './env.ts';
import { fanOutLatency } from './scenarios/fan-out.ts';
import { hostMemory } from './scenarios/memory.ts';
import { timeToOpen } from './scenarios/open.ts';
import { refreshUnderStream } from './scenarios/refresh.ts';
import { rpcRoundTrip } from './scenarios/rpc.ts';
import { socketsPerTabs } from './scenarios/sockets.ts';
import { addFigures, markdownTable, missed, row } from './table.ts';

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
const SCENARIOS = ['sockets', 'rpc', 'fan-out', 'refresh', 'open', 'memory', 'publish', 'load'] as const;
const BROWSER_SCENARIOS = SCENARIOS.slice(0, 6);
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const runs = (scenario: (typeof SCENARIOS)[number]) => !only || only.includes(scenario);

/**
 * Runs one server bench as a child process (its output shown as it goes) and adds its rows; a
 * bench that fails leaves one row saying so instead of ending the run.
 */
async function serverBench(name: 'publish' | 'load', script: string, args: string[]): Promise<void> {
  console.log(`\n${name} (server bench: ${script} ${args.join(' ')})`);
  const dir = await mkdtemp(path.join(os.tmpdir(), `shared-session-bench-${name}-`));
  const json = path.join(dir, 'figures.json');
  try {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, script, ...args, '--json', json], {
        stdio: 'inherit',
      });
      child.once('error', () => resolve(-1));
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code === 0 && existsSync(json)) addFigures(json);
    else row(`${name} server bench`, 'server', `failed (exit code ${code})`, '–', { minRatio: 1 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The browser scenarios, one page kind after the other; closes the browser at the end. */
async function browserBenches(env: BenchEnv): Promise<void> {
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
}

const started = performance.now();
const browser = BROWSER_SCENARIOS.some(runs);
const env = browser ? await startBenchEnv({ minify: !process.argv.includes('--no-minify') }) : undefined;
const cpus = os.cpus();
const header =
  `shared-session bench${quick ? ' (quick)' : ''}: ${env ? `Chromium ${env.browser.version()}, ` : ''}Node ${process.version}, ` +
  `${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
  `load average ${os.loadavg()[0]!.toFixed(1)}` +
  (env ? `, ${env.minified ? 'minified' : 'unminified'} consumer build (Vite)` : '');
console.log(header);
if (env) await browserBenches(env);
const quickFlag = quick ? ['--quick'] : [];
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
if (runs('publish')) await serverBench('publish', here('./publish/run.ts'), quickFlag);
if (runs('load')) await serverBench('load', here('./load/run.ts'), quickFlag);

console.log(`\n${header}, load average at the end ${os.loadavg()[0]!.toFixed(1)}\n`);
console.log(markdownTable());
console.log(
  '\nbaselines: a raw MessagePort echo SharedWorker (RPC); the same tabs each on its own socket speaking the ' +
    'same protocol (sockets, fan-out, startSession → OPEN); "bare relay" rows: the same tabs behind a ' +
    "SharedWorker that only relays its one socket's frames as text, the floor of the design (no target). isolated: COOP/COEP (µs timers); default: no " +
    'headers (100 µs timers). server rows: the server benches, run after the browser closed; the load clients ' +
    'share the cores, so per server CPU-second is the robust figure; ratios of benches that run rounds are ' +
    'medians of per-round ratios.',
);
const misses = missed();
console.log(misses.length === 0 ? 'every target met in this run' : `targets missed in this run: ${misses.length}`);
console.log(`bench finished in ${Math.round((performance.now() - started) / 1000)} s`);
