// Server load run (spec §10 "Server"): `npx tsx bench/load/run.ts [--quick]` after `npm run build`.
//
// Opens N sessions speaking the real protocol (hello with a minted token, subscribe) against
// - a bare `ws` server that only broadcasts (the baseline, bench/load/bare-server.ts),
// - one reference-server process (the built CLI) with the in-memory store,
// - one process with the Redis store, and
// - three processes with Redis behind nginx (round-robin),
// then broadcasts the same payloads from one more socket and prints one table: sessions held,
// connect rate, server RSS per session, and broadcast deliveries per second (and the ratio to the
// bare server of the same run). Everything runs on 127.0.0.1, is bounded in count and time, and
// stops by itself. `--quick` (CI smoke) uses 500 sessions.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
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
  type ServerProcess,
} from '../../test/unit/scale-out/services.ts';
import { broadcast, openSessions, type LoadSessions } from './clients.ts';

const quick = process.argv.includes('--quick');
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

function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s+/)[3] ?? Infinity);
  } catch {
    return Infinity;
  }
}

/** User + system CPU time of a process in ms (`/proc/<pid>/stat`, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at index 2 of the rest.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

interface Row {
  scenario: string;
  held: string;
  connectRate: number;
  rssPerSession: number;
  deliveries: number;
  /** Deliveries per CPU-second of the server processes during the broadcast. */
  perCpuSecond: number;
  complete: boolean;
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
  const budgetMs = quick ? 90_000 : 240_000;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const cli = `${root}dist/server/cli.js`;
  if (!existsSync(cli)) {
    console.error('load: dist/server/cli.js is missing: run `npm run build` first');
    process.exitCode = 1;
    return;
  }
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  const watchdog = setTimeout(() => {
    console.error(`load: the run exceeded ${budgetMs / 1000} s; stopping`);
    void stopAll().finally(() => process.exit(1));
  }, budgetMs);

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

  /** Connects, holds, measures memory, broadcasts; `pids` are the server processes to measure. */
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
    const rssBefore = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
    let clients: LoadSessions | undefined;
    try {
      clients = await openSessions({
        urls,
        count,
        concurrency: 200,
        topic,
        timeoutMs: 30_000,
        ...(real && { token: (i: number) => Promise.resolve(tokens[i]!) }),
      });
      await sleep(1_000); // hold
      const open = clients.open();
      const serverSessions = health ? (await health()).reduce((sum, h) => sum + h.sessions, 0) : open;
      const rssAfter = pids.reduce((sum, pid) => sum + rssKiB(pid), 0);
      const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
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
      const cpuSpent = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpuBefore;
      rows.push({
        scenario,
        held: `${Math.min(open, serverSessions)}/${count}${clients.failures ? ` (${clients.failures} failed)` : ''}`,
        connectRate: (count / clients.elapsedMs) * 1000,
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

  try {
    // 1. Bare ws.
    const bare = await startListeningProcess(
      'bare ws',
      process.execPath,
      [...process.execArgv, fileURLToPath(new URL('./bare-server.ts', import.meta.url))],
      /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
    );
    stops.push(() => bare.stop());
    await measure('bare ws server (baseline)', [bare.url], bare.url, [bare.pid], false);
    await stopAll();

    // 2. One process, in-memory store.
    const single = await startServerProcess({ cli, secret });
    stops.push(() => single.stop());
    await measure('shared-session, 1 process, memory', [single.url], single.url, [single.pid], true, async () => [
      await single.health(),
    ]);
    await stopAll();

    const missing = missingServices(true);
    if (missing !== undefined) {
      console.log(`  Redis scenarios skipped: ${missing}`);
    } else {
      // 3. One process, Redis.
      const redis = await startRedis();
      stops.push(() => redis.stop());
      const withRedis = await startServerProcess({ cli, secret, redisUrl: redis.url, keyPrefix: 'load-1:' });
      stops.push(() => withRedis.stop());
      await measure(
        'shared-session, 1 process, Redis',
        [withRedis.url],
        withRedis.url,
        [withRedis.pid],
        true,
        async () => [await withRedis.health()],
      );
      await withRedis.stop();

      // 4. Three processes, Redis, nginx round-robin.
      const three: ServerProcess[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await startServerProcess({ cli, secret, redisUrl: redis.url, keyPrefix: 'load-3:' });
        stops.push(() => p.stop());
        three.push(p);
      }
      const nginx = await startNginx(three.map((p) => p.port));
      stops.push(() => nginx.stop());
      await measure(
        'shared-session, 3 processes + nginx, Redis',
        [nginx.url],
        nginx.url,
        three.map((p) => p.pid),
        true,
        () => Promise.all(three.map((p) => p.health())),
        balancedSessions,
      );
      await stopAll();
    }
  } finally {
    await stopAll();
    clearTimeout(watchdog);
  }

  printTable(rows, sessions);
}

function printTable(rows: Row[], sessions: number): void {
  const bare = rows.find((r) => r.scenario.startsWith('bare'));
  const single = rows.find((r) => r.scenario.includes('1 process, memory'));
  const three = rows.find((r) => r.scenario.includes('3 processes'));
  const ratio = (value: number, base: number | undefined) =>
    base === undefined || !Number.isFinite(value / base) ? '–' : `${(value / base).toFixed(2)}×`;
  const count = (n: number) => Math.round(n).toLocaleString('en-US');
  const header = [
    'scenario',
    'sessions held',
    'connect /s',
    'RSS/session',
    'deliveries/s',
    'vs bare',
    'deliveries/server CPU-s',
    'vs bare',
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.held,
    count(r.connectRate),
    Number.isFinite(r.rssPerSession) ? `${r.rssPerSession.toFixed(1)} KiB` : '–',
    `${count(r.deliveries)}${r.complete ? '' : ' (incomplete)'}`,
    ratio(r.deliveries, bare?.deliveries),
    count(r.perCpuSecond),
    ratio(r.perCpuSecond, bare?.perCpuSecond),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log('');
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  console.log('');
  console.log(
    `targets (spec §10): ${sessions} sessions held on one process; broadcast ≥ 0.70× bare ws` +
      (single && bare
        ? ` (1 process: ${ratio(single.deliveries, bare.deliveries)} wall, ${ratio(single.perCpuSecond, bare.perCpuSecond)} per CPU-second)`
        : '') +
      (single && three
        ? `; 3 processes behind nginx vs 1 process: ${ratio(three.deliveries, single.deliveries)} wall, ` +
          `${ratio(three.perCpuSecond, single.perCpuSecond)} per server CPU-second`
        : ''),
  );
  console.log(
    'deliveries/s: changes × receivers / time until the last receiver got the last change (the load clients share ' +
      'the 2 cores, so this is bounded by them as much as by the server); per server CPU-second: the same deliveries ' +
      'divided by the user+system CPU the server processes spent meanwhile (nginx and redis-server not counted). ' +
      'RSS/session: growth of the server processes’ resident memory while the sessions connected.',
  );
}
