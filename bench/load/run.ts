// Server load run (spec §10 "Server"): `npx tsx bench/load/run.ts [--quick]` after `npm run build`.
//
// Opens N sessions speaking the real protocol (hello with a minted token, then subscribe) against
// - a bare `ws` server that only broadcasts (the broadcast baseline, bench/load/bare-server.ts),
// - one reference-server process (the built CLI) with the in-memory store,
// - one process with the Redis store, and
// - three processes with Redis behind nginx (round-robin),
// then broadcasts the same payloads from one more socket and prints one table: sessions held,
// connect rate, server RSS per session, and broadcast deliveries per second (and the ratio to the
// bare server of the same run). The connect rate (upgrade → hello → welcome) is also compared in
// interleaved rounds with the bare server verifying the same JWT with jose (`--jwt-secret`), the
// fair baseline: every session of both pays one HS256 verification. Everything runs on 127.0.0.1,
// is bounded in count and time, and stops by itself. `--quick` (CI smoke) uses 500 sessions;
// `--sessions N`; `--cpu-prof DIR` writes a V8 CPU profile of each server process there
// (read it with bench/load/profile-summary.ts); `--json FILE` also writes the figures for the table
// of `npm run bench` (bench/table.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTokenMinter } from '../../src/testing/mint-token.ts';
import {
  missingServices,
  startListeningProcess,
  startNginx,
  startRedis,
  startServerProcess,
  type HealthStats,
  type ListeningProcess,
  type ServerProcess,
} from '../../test/unit/scale-out/services.ts';
import { writeFigures, type ServerFigure } from '../table.ts';
import { broadcast, countFrames, openSessions, subscribeAll, type LoadSessions } from './clients.ts';
import { cpuMs, formatCount, formatRatio, openFilesLimit, printTable, rssKiB } from './process-stats.ts';
import { RunBudget } from './run-budget.ts';

const quick = process.argv.includes('--quick');
const profileIndex = process.argv.indexOf('--cpu-prof');
const profileDir = profileIndex > 0 ? process.argv[profileIndex + 1] : undefined;
const jsonIndex = process.argv.indexOf('--json');
const jsonFile = jsonIndex > 0 ? process.argv[jsonIndex + 1] : undefined;
/** Node flags of the server processes (a CPU profile with `--cpu-prof DIR`). */
const serverNodeArgs = (name: string): string[] =>
  profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, name)];

const sum = (pids: number[], read: (pid: number) => number): number =>
  pids.reduce((total, pid) => total + read(pid), 0);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;

/** Open files this run needs: every session is a socket here, and one in a server (two in nginx). */
const WANTED_OPEN_FILES = quick ? 8_192 : 65_536;
const RAISED_ENV = 'SHARED_SESSION_LOAD_ULIMIT';

// Raise the open-files limit by re-running this script under `ulimit -n` (Node cannot setrlimit).
if (process.platform === 'linux' && process.env[RAISED_ENV] === undefined && openFilesLimit() < WANTED_OPEN_FILES) {
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null || echo "load: could not raise ulimit -n to ${WANTED_OPEN_FILES}" >&2; exec "$@"`,
      'sh',
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, [RAISED_ENV]: '1' } },
  );
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

interface Row {
  scenario: string;
  held: string;
  /** Sessions per second through upgrade → hello → welcome (bare: the upgrade alone). */
  connectRate: number;
  rssPerSession: number;
  deliveries: number;
  /** Deliveries per CPU-second of the server processes during the broadcast. */
  perCpuSecond: number;
  complete: boolean;
}

/** One interleaved round of the connect comparison. */
interface ConnectRound {
  perSecond: number;
  /** Sessions per CPU-second of the server while they connected. */
  perCpuSecond: number;
}

async function main(): Promise<void> {
  const limit = openFilesLimit();
  const sessionsFlag = process.argv.indexOf('--sessions');
  const asked = sessionsFlag > 0 ? Number(process.argv[sessionsFlag + 1]) : quick ? 500 : 10_000;
  const sessions = Math.min(asked, 20_000, limit - 1_000);
  // nginx holds two sockets per session (client and upstream side) under the same limit.
  const balancedSessions = Math.min(sessions, Math.floor((limit - 1_000) / 2));
  const changes = quick ? 50 : 100;
  const payloadBytes = 200;
  const connectRounds = quick ? 3 : 5;
  const connectSessions = Math.min(sessions, quick ? 500 : 2_000);
  const budgetMs = quick ? 120_000 : 300_000;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const cli = `${root}dist/server/cli.js`;
  if (!existsSync(cli)) {
    console.error('load: dist/server/cli.js is missing: run `npm run build` first');
    process.exitCode = 1;
    return;
  }
  const budget = new RunBudget('load', budgetMs);

  console.log(
    `load: ${sessions} sessions, ${changes} broadcast changes of ~${payloadBytes} B, ${os.cpus().length} cores ` +
      `(${os.cpus()[0]?.model ?? 'cpu'}), node ${process.version}, ulimit -n ${limit}${quick ? ' (--quick)' : ''}`,
  );
  const secret = randomBytes(32).toString('base64url');
  const mint = createTokenMinter(secret);
  const tokens = await Promise.all(
    Array.from({ length: sessions }, (_, i) => mint({ sub: `load-${i}`, roles: ['user'], expiresIn: 3_600 })),
  );
  const publisherToken = await mint({ sub: 'publisher', roles: ['user'], expiresIn: 3_600 });
  const rows: Row[] = [];
  const topic = 'load:broadcast';
  const startBare = (verify: boolean): Promise<ListeningProcess> =>
    startListeningProcess(
      verify ? 'bare ws + jose' : 'bare ws',
      process.execPath,
      [
        ...process.execArgv,
        ...serverNodeArgs(verify ? 'bare-jose' : 'bare'),
        fileURLToPath(new URL('./bare-server.ts', import.meta.url)),
        ...(verify ? ['--jwt-secret', secret] : []),
      ],
      /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
    );

  /** Opens `count` sessions (upgrade → hello → welcome when `real`) and reads the servers' CPU meanwhile. */
  const connect = async (urls: string[], pids: number[], real: boolean, count: number) => {
    const cpuBefore = sum(pids, cpuMs);
    const clients = await openSessions({
      urls,
      count,
      concurrency: 200,
      timeoutMs: 30_000,
      ...(real && { token: (i: number) => tokens[i]! }),
    });
    const cpu = sum(pids, cpuMs) - cpuBefore;
    return { clients, round: { perSecond: (count / clients.elapsedMs) * 1000, perCpuSecond: (count / cpu) * 1000 } };
  };

  /** Connects, subscribes, holds, measures memory, broadcasts; `pids` are the server processes to measure. */
  const measure = async (
    scenario: string,
    urls: string[],
    publishUrl: string,
    pids: number[],
    real: boolean,
    health?: () => Promise<HealthStats[]>,
    count = sessions,
  ): Promise<void> => {
    const phase = performance.now();
    const rssBefore = sum(pids, rssKiB);
    let clients: LoadSessions | undefined;
    try {
      const connected = await connect(urls, pids, real, count);
      clients = connected.clients;
      if (real) await subscribeAll(clients, topic, 200, 30_000);
      else countFrames(clients);
      await sleep(1_000); // hold
      const open = clients.open();
      const serverSessions = health ? (await health()).reduce((total, h) => total + h.sessions, 0) : open;
      const rssAfter = sum(pids, rssKiB);
      const cpuBefore = sum(pids, cpuMs);
      const result = await broadcast({
        url: publishUrl,
        ...(real && { token: publisherToken }),
        topic,
        changes,
        window: 64,
        payloadBytes,
        receivers: clients,
        expectedDeliveries: open * changes,
        timeoutMs: quick ? 20_000 : 30_000,
      });
      const cpuSpent = sum(pids, cpuMs) - cpuBefore;
      rows.push({
        scenario,
        held: `${Math.min(open, serverSessions)}/${count}${clients.failures ? ` (${clients.failures} failed)` : ''}`,
        connectRate: connected.round.perSecond,
        rssPerSession: (rssAfter - rssBefore) / Math.max(1, open),
        deliveries: result.perSecond,
        perCpuSecond: (result.deliveries / cpuSpent) * 1000,
        complete: result.complete,
      });
      const last = rows.at(-1)!;
      console.log(
        `  ${scenario}: held ${last.held}, ${last.connectRate.toFixed(0)} sessions/s, ` +
          `${last.rssPerSession.toFixed(1)} KiB RSS/session, ${last.deliveries.toFixed(0)} deliveries/s, ` +
          `${last.perCpuSecond.toFixed(0)} per server CPU-second` +
          (result.complete ? '' : ` (INCOMPLETE: ${result.deliveries}/${open * changes})`) +
          ` [${((performance.now() - phase) / 1000).toFixed(1)} s]`,
      );
    } finally {
      clients?.terminate();
      await sleep(200);
    }
  };

  const connectRows: { baseline: ConnectRound[]; shared: ConnectRound[] } = { baseline: [], shared: [] };
  try {
    // 1. The connect rate, interleaved: bare ws verifying the same JWT vs one reference-server process.
    const verifying = await startBare(true);
    budget.add(() => verifying.stop());
    const connecting = await startServerProcess({ cli, secret, nodeArgs: serverNodeArgs('connect') });
    budget.add(() => connecting.stop());
    for (let round = 0; round < connectRounds; round++) {
      const pairs: Array<[ListeningProcess | ServerProcess, ConnectRound[]]> = [
        [verifying, connectRows.baseline],
        [connecting, connectRows.shared],
      ];
      for (const [server, results] of round % 2 === 0 ? pairs : pairs.reverse()) {
        const { clients, round: result } = await connect([server.url], [server.pid], true, connectSessions);
        if (clients.failures > 0) console.log(`  connect round ${round + 1}: ${clients.failures} sessions failed`);
        clients.terminate();
        results.push(result);
        await sleep(300); // let the server close them before the next round
      }
    }
    const last = (results: ConnectRound[]) => results.at(-1)!.perSecond.toFixed(0);
    console.log(
      `  connect, ${connectRounds} interleaved rounds of ${connectSessions}: bare ws + jose ${connectRows.baseline.map((r) => r.perSecond.toFixed(0)).join(', ')}; ` +
        `shared-session ${connectRows.shared.map((r) => r.perSecond.toFixed(0)).join(', ')} sessions/s (last ${last(connectRows.shared)})`,
    );
    await budget.stopAll();

    // 2. Bare ws: the broadcast baseline.
    const bare = await startBare(false);
    budget.add(() => bare.stop());
    await measure('bare ws server (baseline)', [bare.url], bare.url, [bare.pid], false);
    await budget.stopAll();

    // 3. One process, in-memory store.
    const single = await startServerProcess({ cli, secret, nodeArgs: serverNodeArgs('memory') });
    budget.add(() => single.stop());
    await measure('shared-session, 1 process, memory', [single.url], single.url, [single.pid], true, async () => [
      await single.health(),
    ]);
    await budget.stopAll();

    const missing = missingServices(true);
    if (missing !== undefined) {
      console.log(`  Redis scenarios skipped: ${missing}`);
    } else {
      // 4. One process, Redis.
      const redis = await startRedis();
      budget.add(() => redis.stop());
      const withRedis = await startServerProcess({ cli, secret, redisUrl: redis.url, keyPrefix: 'load-1:' });
      budget.add(() => withRedis.stop());
      await measure(
        'shared-session, 1 process, Redis',
        [withRedis.url],
        withRedis.url,
        [withRedis.pid],
        true,
        async () => [await withRedis.health()],
      );
      await withRedis.stop();

      // 5. Three processes, Redis, nginx round-robin.
      const three: ServerProcess[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await startServerProcess({ cli, secret, redisUrl: redis.url, keyPrefix: 'load-3:' });
        budget.add(() => p.stop());
        three.push(p);
      }
      const nginx = await startNginx(three.map((p) => p.port));
      budget.add(() => nginx.stop());
      await measure(
        'shared-session, 3 processes + nginx, Redis',
        [nginx.url],
        nginx.url,
        three.map((p) => p.pid),
        true,
        () => Promise.all(three.map((p) => p.health())),
        balancedSessions,
      );
      await budget.stopAll();
    }
  } finally {
    await budget.finish();
  }

  printTables(rows, connectRows, sessions, connectSessions);
  if (jsonFile !== undefined) writeFigures(jsonFile, figures(rows, connectRows, { asked, sessions, limit }));
}

/** The rows of this run for the table of `npm run bench`. */
function figures(
  rows: Row[],
  connect: { baseline: ConnectRound[]; shared: ConnectRound[] },
  run: { asked: number; sessions: number; limit: number },
): ServerFigure[] {
  const bare = rows.find((r) => r.scenario.startsWith('bare'));
  const single = rows.find((r) => r.scenario.includes('1 process, memory'));
  // Say what ran: fewer sessions than asked when the open-files limit did not allow them.
  const capped = run.sessions < run.asked ? ` (${run.asked} asked, ulimit -n ${run.limit})` : '';
  const out: ServerFigure[] = [];
  const broadcastMetric = `broadcast per server CPU-s vs bare ws, ${run.sessions} sessions${capped}`;
  if (bare === undefined || single === undefined) {
    out.push({ metric: broadcastMetric, shared: 'not measured', baseline: '–', ratio: null, target: { minRatio: 1 } });
  } else {
    out.push({
      metric: `${broadcastMetric}, held ${single.held}${single.complete ? '' : ', INCOMPLETE'}`,
      shared: formatCount(single.perCpuSecond),
      baseline: formatCount(bare.perCpuSecond),
      ratio: single.perCpuSecond / bare.perCpuSecond,
      target: { minRatio: 1 },
    });
  }
  const pairs = [
    ['sessions/s', (r: ConnectRound) => r.perSecond, { minRatio: 0.8 }],
    ['per server CPU-s', (r: ConnectRound) => r.perCpuSecond, undefined],
  ] as const;
  for (const [unit, pick, target] of pairs) {
    const figure: ServerFigure = {
      metric: `connect (upgrade → hello → welcome) vs bare ws + jose, ${unit}`,
      shared: formatCount(median(connect.shared.map(pick))),
      baseline: formatCount(median(connect.baseline.map(pick))),
      ratio: median(connect.shared.map((r, i) => pick(r) / pick(connect.baseline[i]!))),
    };
    if (target !== undefined) figure.target = target;
    out.push(figure);
  }
  return out;
}

function printTables(
  rows: Row[],
  connect: { baseline: ConnectRound[]; shared: ConnectRound[] },
  sessions: number,
  connectSessions: number,
): void {
  const bare = rows.find((r) => r.scenario.startsWith('bare'));
  const single = rows.find((r) => r.scenario.includes('1 process, memory'));
  const three = rows.find((r) => r.scenario.includes('3 processes'));
  printTable(
    [
      'scenario',
      'sessions held',
      'connect /s',
      'RSS/session',
      'deliveries/s',
      'vs bare',
      'deliveries/server CPU-s',
      'vs bare',
    ],
    rows.map((r) => [
      r.scenario,
      r.held,
      formatCount(r.connectRate),
      Number.isFinite(r.rssPerSession) ? `${r.rssPerSession.toFixed(1)} KiB` : '–',
      `${formatCount(r.deliveries)}${r.complete ? '' : ' (incomplete)'}`,
      formatRatio(r.deliveries, bare?.deliveries),
      formatCount(r.perCpuSecond),
      formatRatio(r.perCpuSecond, bare?.perCpuSecond),
    ]),
  );
  console.log(
    `targets (spec §10): ${sessions} sessions held on one process; broadcast ≥ 1.0× bare ws per server CPU-second` +
      (single && bare
        ? ` (1 process: ${formatRatio(single.perCpuSecond, bare.perCpuSecond)} per CPU-second, ${formatRatio(single.deliveries, bare.deliveries)} wall)`
        : '') +
      (single && three
        ? `; 3 processes behind nginx vs 1 process: ${formatRatio(three.deliveries, single.deliveries)} wall, ` +
          `${formatRatio(three.perCpuSecond, single.perCpuSecond)} per server CPU-second`
        : ''),
  );
  const ratios = (pick: (r: ConnectRound) => number) =>
    median(connect.shared.map((r, i) => pick(r) / pick(connect.baseline[i]!)));
  printTable(
    [
      'connect (upgrade → hello → welcome)',
      'sessions/s',
      'vs bare + jose',
      'target',
      'sessions/server CPU-s',
      'vs bare + jose',
    ],
    [
      [
        'bare ws + jose (baseline)',
        formatCount(median(connect.baseline.map((r) => r.perSecond))),
        '1.00×',
        '',
        formatCount(median(connect.baseline.map((r) => r.perCpuSecond))),
        '1.00×',
      ],
      [
        'shared-session, 1 process, memory',
        formatCount(median(connect.shared.map((r) => r.perSecond))),
        formatRatio(
          ratios((r) => r.perSecond),
          1,
        ),
        '≥ 0.80×',
        formatCount(median(connect.shared.map((r) => r.perCpuSecond))),
        formatRatio(
          ratios((r) => r.perCpuSecond),
          1,
        ),
      ],
    ],
  );
  console.log(
    `connect: medians of ${connect.shared.length} interleaved rounds of ${connectSessions} sessions (200 opening at once); ` +
      '"vs" is the median of the per-round ratios. Both servers verify the same HS256 token with jose. ' +
      'deliveries/s: changes × receivers / time until the last receiver got the last change (the load clients share ' +
      'the cores, so this is bounded by them as much as by the server); per server CPU-second: the same count ' +
      'divided by the user+system CPU the server processes spent meanwhile (nginx and redis-server not counted). ' +
      'RSS/session: growth of the server processes’ resident memory while the sessions connected.',
  );
}
