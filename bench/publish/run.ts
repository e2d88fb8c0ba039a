// Durable publish throughput (spec §10, issue 12 item 5): `npx tsx bench/publish/run.ts [--quick]`
// after `npm run build`.
//
// One reference-server process (the built CLI) per store — memory, LMDB, Redis — each in its own
// process so that its CPU time is read alone from /proc. Against each, 100 sessions speaking the
// real protocol through `ws` keep 32 publishes in flight each (a new one as soon as one is
// acknowledged, like the host's outbox); every `published` means the change was committed (LMDB:
// flushed to disk; Redis: executed by redis-server). The stores are measured in interleaved rounds
// (the order rotates), so drift in the machine's load falls on all of them alike, and the table
// gives the median of the rounds: acknowledged publishes per second, per server CPU-second, ack
// latency, and the ratio to the memory store of the same round. Every session publishes to its own
// topic and checks its seqs (1, 2, 3… in send order, no duplicate). Bounded in count and time.
// `--json FILE` also writes the figures for the table of `npm run bench` (bench/table.ts);
// `--no-redis` leaves Redis out (as when redis-server is missing).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createTokenMinter } from '../../src/testing/mint-token.ts';
import {
  missingServices,
  startListeningProcess,
  startRedis,
  type ListeningProcess,
} from '../../test/unit/scale-out/services.ts';
import { openSessions, type LoadSessions } from '../load/clients.ts';
import { cpuMs, findPid, formatCount, formatRatio, printTable } from '../load/process-stats.ts';
import { writeFigures, type ServerFigure } from '../table.ts';
import { startPublishing } from './publishers.ts';
import { RunBudget } from '../load/run-budget.ts';

const quick = process.argv.includes('--quick');
const numberFlag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name);
  const value = index > 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return value;
};
const connections = numberFlag('--connections', 100);
const inFlight = numberFlag('--in-flight', 32);
const rounds = numberFlag('--rounds', quick ? 1 : 5);
const measureMs = numberFlag('--seconds', quick ? 2 : 5) * 1000;
const warmupMs = quick ? 500 : 1_000;
const payloadBytes = 100;
/** `--cpu-prof DIR`: every server process writes a V8 CPU profile there when it stops. */
const profileIndex = process.argv.indexOf('--cpu-prof');
const profileDir = profileIndex > 0 ? process.argv[profileIndex + 1] : undefined;
const jsonIndex = process.argv.indexOf('--json');
const jsonFile = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined;
/** Why the Redis store was not measured (redis-server missing), if it was not. */
let redisSkipped: string | undefined;
const budgetMs = 60_000 + rounds * 3 * (measureMs + warmupMs + 5_000);

/** One store under load: its server process, the sessions against it and its results per round. */
interface Target {
  name: 'memory' | 'LMDB' | 'Redis';
  server: ListeningProcess;
  /** The processes whose CPU counts as the store's besides the server (redis-server). */
  helperPid?: number;
  sessions?: LoadSessions;
  results: RoundResult[];
}

interface RoundResult {
  perSecond: number;
  perServerCpuSecond: number;
  /** Per CPU-second of the server and its helper (redis-server). */
  perTotalCpuSecond: number;
  p50: number;
  p99: number;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]): number => percentile(values, 50);

const root = fileURLToPath(new URL('../../', import.meta.url));
const index = `${root}dist/server/index.js`;
const serverProcess = `${root}test/unit/scale-out/server-process.mjs`;

async function main(): Promise<void> {
  if (!existsSync(index)) {
    console.error('publish: dist/server/index.js is missing: run `npm run build` first');
    process.exitCode = 1;
    return;
  }
  const budget = new RunBudget('publish', budgetMs);

  console.log(
    `publish: ${connections} sessions × ${inFlight} in flight, ~${payloadBytes} B changes, ${rounds} round(s) of ` +
      `${measureMs / 1000} s per store, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), node ${process.version}` +
      (quick ? ' (--quick)' : ''),
  );
  const secret = randomBytes(32).toString('base64url');
  const mint = createTokenMinter(secret);
  const tokens = await Promise.all(
    Array.from({ length: connections }, (_, i) => mint({ sub: `publisher-${i}`, roles: ['user'], expiresIn: 3_600 })),
  );
  const start = (name: string, storeArgs: string[]): Promise<ListeningProcess> =>
    startListeningProcess(
      `shared-session-server (${name})`,
      process.execPath,
      [
        ...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, name)]),
        serverProcess,
        index,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        // One argument: a random secret may start with "-", which parseArgs reads as another option.
        `--secret=${secret}`,
        '--log-level',
        'warn',
        ...storeArgs,
      ],
      /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
    );

  const targets: Target[] = [];
  try {
    const memory = await start('memory', ['--memory']);
    budget.add(() => memory.stop());
    targets.push({ name: 'memory', server: memory, results: [] });

    const dir = await mkdtemp(path.join(os.tmpdir(), 'shared-session-publish-'));
    budget.add(() => rm(dir, { recursive: true, force: true }));
    const lmdb = await start('LMDB', ['--data', dir]);
    budget.add(() => lmdb.stop());
    targets.push({ name: 'LMDB', server: lmdb, results: [] });

    const missing = process.argv.includes('--no-redis') ? '--no-redis given' : missingServices(false);
    if (missing !== undefined) {
      console.log(`  Redis skipped: ${missing}`);
      redisSkipped = missing;
    } else {
      const redis = await startRedis();
      budget.add(() => redis.stop());
      const withRedis = await start('Redis', ['--redis', redis.url, '--redis-prefix', 'publish-bench:']);
      budget.add(() => withRedis.stop());
      const helperPid = findPid(['redis-server', `:${redis.port}`]);
      targets.push({ name: 'Redis', server: withRedis, ...(helperPid !== undefined && { helperPid }), results: [] });
    }

    for (const target of targets) {
      target.sessions = await openSessions({
        urls: [target.server.url],
        count: connections,
        concurrency: 50,
        token: (i) => tokens[i]!,
        timeoutMs: 15_000,
      });
      budget.add(async () => target.sessions?.terminate());
      if (target.sessions.failures > 0) throw new Error(`${target.name}: ${target.sessions.failures} sessions failed`);
    }

    for (let round = 0; round < rounds; round++) {
      // Rotate the order, so that no store always runs first (or right after another).
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const target of order) {
        const result = await measure(target, round);
        target.results.push(result);
        console.log(
          `  round ${round + 1}, ${target.name}: ${formatCount(result.perSecond)} acked/s, ` +
            `${formatCount(result.perServerCpuSecond)} per server CPU-s, ack p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`,
        );
      }
    }
  } finally {
    await budget.finish();
  }
  report(targets);
  if (jsonFile !== undefined) writeFigures(jsonFile, figures(targets));
}

/** The rows of this run for the table of `npm run bench`. */
function figures(targets: Target[]): ServerFigure[] {
  const memory = targets.find((t) => t.name === 'memory');
  const goal = { LMDB: 0.8, Redis: 0.6 } as const;
  const out: ServerFigure[] = [];
  for (const name of ['LMDB', 'Redis'] as const) {
    const target = targets.find((t) => t.name === name);
    const what = `durable publish (${connections} sessions × ${inFlight}), ${name} vs memory store`;
    if (target === undefined || memory === undefined) {
      const why = `not measured: ${redisSkipped ?? 'no result'}`;
      out.push({
        metric: `${what}, acked/s`,
        shared: why,
        baseline: '–',
        ratio: null,
        target: { minRatio: goal[name] },
      });
      out.push({ metric: `${what}, per server CPU-s`, shared: why, baseline: '–', ratio: null });
      continue;
    }
    const pairs = [
      ['acked/s', (r: RoundResult) => r.perSecond],
      ['per server CPU-s', (r: RoundResult) => r.perServerCpuSecond],
    ] as const;
    for (const [unit, pick] of pairs) {
      const figure: ServerFigure = {
        metric: `${what}, ${unit}`,
        shared: formatCount(median(target.results.map(pick))),
        baseline: formatCount(median(memory.results.map(pick))),
        ratio: median(target.results.map((r, i) => pick(r) / pick(memory.results[i]!))),
      };
      // The target is on the acked rate; per server CPU-second is reported beside it.
      if (unit === 'acked/s') figure.target = { minRatio: goal[name] };
      out.push(figure);
    }
  }
  return out;
}

/** One round against one store: warm up, then count acks and server CPU over the measured window. */
async function measure(target: Target, round: number): Promise<RoundResult> {
  const sockets = target.sessions!.sockets;
  const load = startPublishing({
    sockets,
    topic: (i) => `bench:publish:${round}:${i}`,
    inFlight,
    payloadBytes,
  });
  await sleep(warmupMs);
  load.takeLatencies();
  const acked = load.acked;
  const cpu = cpuMs(target.server.pid);
  const helperCpu = target.helperPid === undefined ? 0 : cpuMs(target.helperPid);
  const started = performance.now();
  await sleep(measureMs);
  const elapsed = performance.now() - started;
  const count = load.acked - acked;
  const serverCpu = cpuMs(target.server.pid) - cpu;
  const totalCpu = serverCpu + (target.helperPid === undefined ? 0 : cpuMs(target.helperPid) - helperCpu);
  const latencies = load.takeLatencies();
  if (!(await load.stop(15_000))) throw new Error(`${target.name}: publishes still unanswered 15 s after the round`);
  if (load.problems.length > 0) {
    throw new Error(
      `${target.name}: ${load.problems.length} broken promises, first: ${load.problems.slice(0, 3).join('; ')}`,
    );
  }
  return {
    perSecond: (count / elapsed) * 1000,
    perServerCpuSecond: (count / serverCpu) * 1000,
    perTotalCpuSecond: (count / totalCpu) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function report(targets: Target[]): void {
  const memory = targets.find((t) => t.name === 'memory');
  /** Median over the rounds of this store's value relative to the memory store's in the same round. */
  const ratioToMemory = (target: Target, pick: (r: RoundResult) => number): string => {
    if (memory === undefined) return '–';
    const ratios = target.results.map((r, i) => pick(r) / pick(memory.results[i]!));
    return formatRatio(median(ratios), 1);
  };
  const targetsOf: Record<Target['name'], string> = { memory: '–', LMDB: '≥ 0.80×', Redis: '≥ 0.60×' };
  const lines = targets.map((t) => {
    const perSecond = median(t.results.map((r) => r.perSecond));
    const perCpu = median(t.results.map((r) => r.perServerCpuSecond));
    const withHelper =
      t.helperPid === undefined
        ? ''
        : ` (${formatCount(median(t.results.map((r) => r.perTotalCpuSecond)))} with redis-server)`;
    return [
      t.name,
      formatCount(perSecond),
      ratioToMemory(t, (r) => r.perSecond),
      targetsOf[t.name],
      `${formatCount(perCpu)}${withHelper}`,
      ratioToMemory(t, (r) => r.perServerCpuSecond),
      `${median(t.results.map((r) => r.p50)).toFixed(1)} / ${median(t.results.map((r) => r.p99)).toFixed(1)}`,
    ];
  });
  printTable(
    ['store', 'acked publishes/s', 'vs memory', 'target', 'per server CPU-s', 'vs memory', 'ack p50 / p99 (ms)'],
    lines,
  );
  console.log(
    `${connections} sessions × ${inFlight} publishes in flight, the real protocol over loopback; medians of ${rounds} ` +
      'interleaved round(s); "vs memory" is the median of the per-round ratios. Acked = `published` received, which ' +
      'the server sends after the commit (LMDB: flushed to disk). The load clients share the cores with the server, ' +
      'so the per-server-CPU-second column (user+system CPU of the server process) is the robust one.',
  );
}

await main();
