// Memory bombs of issue 10 against a server in its own process, on loopback, bounded in count and
// time. Prints one table: attack, server RSS growth, whether a healthy client kept receiving, and
// the healthy client's ping p50 (with the idle p50 for comparison).
//
//   npx tsx bench/attack/memory-bombs.ts [--quick] [--server <path of a createSessionServer module>]
//
// `--server` runs the same attacks against another tree (e.g. an export of an older commit) for a
// before/after comparison. Asserts nothing about time: it prints figures.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';

const quick = process.argv.includes('--quick');
const serverArg = process.argv.indexOf('--server');
const modulePath =
  serverArg > 0
    ? (process.argv[serverArg + 1] ?? '')
    : fileURLToPath(new URL('../../src/server/index.ts', import.meta.url));
const secret = 'attack-bench-secret-long-enough-for-hs256';
const MiB = 1024 * 1024;

interface Server {
  child: ChildProcess;
  port: number;
  ask<T>(message: Record<string, unknown>, answer: string): Promise<T>;
}

async function startServer(): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [modulePath, secret], {
    execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=2048'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const ask = <T>(message: Record<string, unknown>, answer: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (reply: { type: string }) => {
        if (reply.type !== answer) return;
        child.off('message', onMessage);
        resolve(reply as T);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return { child, port, ask };
}

const token = (sub: string) =>
  new SignJWT({ sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

/** An authenticated `ws` client. */
async function session(port: number, sub: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, token: await token(sub), sessionId: randomUUID() }));
  await new Promise<void>((resolve, reject) => {
    ws.once('message', () => resolve());
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
  });
  return ws;
}

/** Median round trip of `count` pings on `ws`, in ms (NaN when the socket died). */
async function pingP50(ws: WebSocket, count: number): Promise<number> {
  const times: number[] = [];
  for (let id = 0; id < count && ws.readyState === WebSocket.OPEN; id++) {
    const started = performance.now();
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      const onMessage = (raw: Buffer) => {
        const message = JSON.parse(raw.toString()) as { type: string; id?: number };
        if (message.type !== 'pong' || message.id !== 1_000_000 + id) return;
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(true);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ type: 'ping', id: 1_000_000 + id }));
    });
    if (answered) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times.length === 0 ? Number.NaN : (times[Math.floor(times.length / 2)] ?? Number.NaN);
}

/** Whether `ws` receives the change the server publishes now, within 5 s. */
async function receivesLive(server: Server, ws: WebSocket, topic: string): Promise<boolean> {
  const got = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5_000);
    ws.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { type: string; topic?: string; data?: { at?: number } };
      if (message.type === 'change' && message.topic === topic && message.data?.at !== undefined) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  await server.ask({ type: 'publish', topic }, 'published');
  return got;
}

const rss = async (server: Server) => (await server.ask<{ rss: number }>({ type: 'rss' }, 'rss')).rss;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  attack: string;
  growthMiB: number;
  healthy: boolean;
  idleP50: number;
  p50: number;
}

/** 32 sockets of one user subscribe to a topic of 256 KiB changes and never read. */
async function stalledSubscribers(server: Server): Promise<Row> {
  const changes = quick ? 24 : 64;
  await server.ask({ type: 'seed', topic: 'big', count: changes, bytes: 256 * 1024 - 64 }, 'seeded');
  const healthy = await session(server.port, 'healthy');
  healthy.send(JSON.stringify({ type: 'subscribe', id: 1, topic: 'big', after: 0 }));
  const idleP50 = await pingP50(healthy, 20);
  const before = await rss(server);
  const stalled = await Promise.all(Array.from({ length: 32 }, () => session(server.port, 'mallory')));
  for (const ws of stalled) {
    ws.send(JSON.stringify({ type: 'subscribe', id: 1, topic: 'big', after: 0 }));
    ws.pause(); // never reads again: the kernel buffers fill, then the server's
  }
  await wait(quick ? 1_500 : 3_000);
  const after = await rss(server);
  const p50 = await pingP50(healthy, 20);
  const healthyOk = await receivesLive(server, healthy, 'big');
  for (const ws of [...stalled, healthy]) ws.terminate();
  return {
    attack: '32 stalled subscribers, 256 KiB changes',
    growthMiB: (after - before) / MiB,
    healthy: healthyOk,
    idleP50,
    p50,
  };
}

/** Raw sockets each send all but the last byte of a 1 MiB frame, before hello. */
async function partialFrames(server: Server): Promise<Row> {
  const count = quick ? 200 : 1_000;
  const healthy = await session(server.port, 'healthy-2');
  healthy.send(JSON.stringify({ type: 'subscribe', id: 1, topic: 'live', after: 0 }));
  const idleP50 = await pingP50(healthy, 20);
  const before = await rss(server);
  const frame = Buffer.alloc(1024 * 1024 - 1, 0x20);
  const sockets = await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      // Header of a masked 1 MiB text frame, mask 0, then all but the last payload byte.
      const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]);
      socket.write(Buffer.concat([header, frame]));
      return socket;
    }),
  );
  await wait(quick ? 1_500 : 3_000);
  const after = await rss(server);
  const p50 = await pingP50(healthy, 20);
  const healthyOk = await receivesLive(server, healthy, 'live');
  for (const socket of sockets) socket.destroy();
  healthy.terminate();
  return {
    attack: `${count} raw sockets, 1 MiB frame minus 1 byte`,
    growthMiB: (after - before) / MiB,
    healthy: healthyOk,
    idleP50,
    p50,
  };
}

/** 8 sockets keep sending 1 MiB `[[[[…` first frames while a healthy client pings. */
async function deepJson(server: Server): Promise<Row> {
  const healthy = await session(server.port, 'healthy-3');
  healthy.send(JSON.stringify({ type: 'subscribe', id: 1, topic: 'deep', after: 0 }));
  const idleP50 = await pingP50(healthy, 20);
  const before = await rss(server);
  // The attackers run in a worker thread, so that sending 8 MiB bombs does not delay this
  // thread's pings: the p50 measures the server.
  const attackers = new Worker(
    `const { WebSocket } = require('ws');
     const { parentPort, workerData } = require('node:worker_threads');
     const bomb = '['.repeat(1024 * 1024 - 16);
     let running = true;
     parentPort.on('message', () => { running = false; });
     const attacker = async () => {
       while (running) {
         const ws = new WebSocket('ws://127.0.0.1:' + workerData.port, { perMessageDeflate: false });
         ws.on('error', () => {});
         await new Promise((resolve) => {
           ws.once('open', () => ws.send(bomb));
           ws.once('close', resolve);
           ws.once('error', resolve);
         });
       }
     };
     Promise.all(Array.from({ length: 8 }, attacker)).then(() => process.exit(0));`,
    { eval: true, workerData: { port: server.port } },
  );
  await wait(300);
  const p50 = await pingP50(healthy, quick ? 20 : 50);
  const after = await rss(server);
  const healthyOk = await receivesLive(server, healthy, 'deep');
  attackers.postMessage('stop');
  await new Promise((resolve) => attackers.once('exit', resolve));
  healthy.terminate();
  return {
    attack: '8 sockets sending 1 MiB [[[[ frames',
    growthMiB: (after - before) / MiB,
    healthy: healthyOk,
    idleP50,
    p50,
  };
}

const rows: Row[] = [];
for (const attack of [stalledSubscribers, partialFrames, deepJson]) {
  const server = await startServer();
  try {
    rows.push(await attack(server));
  } catch (error) {
    rows.push({
      attack: `${attack.name}: ${String(error)}`,
      growthMiB: Number.NaN,
      healthy: false,
      idleP50: Number.NaN,
      p50: Number.NaN,
    });
  } finally {
    server.child.send({ type: 'close' });
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

console.log(`\nMemory bombs (issue 10) against ${modulePath}${quick ? ' (quick)' : ''}`);
console.log('| attack | server RSS growth | healthy client kept receiving | healthy ping p50 idle → under attack |');
console.log('|---|---|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.attack} | ${row.growthMiB.toFixed(1)} MiB | ${row.healthy ? 'yes' : 'no'} | ${row.idleP50.toFixed(2)} ms → ${row.p50.toFixed(2)} ms |`,
  );
}
